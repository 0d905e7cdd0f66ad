// Package slack posts a group's alerts to a Slack channel as one Block Kit
// message that is updated in place as the group changes, and takes chat
// commands ("ack 12"), slash commands and button presses back from Slack's
// Events API, slash command and interactivity requests.
//
// The first post mentions the people on call on an "On call:" line;
// updates name them without mentioning anyone. Pages (escalation steps,
// hand-offs) mention people in the group's thread or in the channel. An
// incident gets a channel of its own (OpenRoom), and commands typed there
// carry it as Command.Room.
//
// It talks to Slack through slack-go with the injected HTTP client. Every
// label, annotation and actor is attacker-influenced text: it is escaped for
// mrkdwn (&, <, >) wherever Slack parses markup, and only http(s) URLs become
// links.
package slack

import (
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/slack-go/slack"

	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Config is a Slack channel's configuration.
type Config struct {
	APIURL        string        `yaml:"api_url"`        // default DefaultAPIURL
	BotToken      config.Secret `yaml:"bot_token"`      // xoxb-…, required
	SigningSecret config.Secret `yaml:"signing_secret"` // the app's signing secret, required
	Channel       string        `yaml:"channel"`        // channel ID, e.g. C0123456789
	Mention       []string      `yaml:"mention"`        // user IDs (U…, W…) or user-group IDs (S…) to mention on P0
}

var (
	channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	userID    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	groupID   = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
)

// Channel is a Slack channel. It implements notify.Channel, notify.Noter,
// notify.Chat, notify.Rooms and notify.Inbound.
type Channel struct {
	name     string
	channel  string
	secret   string
	mentions string // rendered mentions for critical first posts, e.g. "<@U1> <!subteam^S1>"
	api      *slack.Client
	env      notify.Env

	// Inbound state: the bot's own user ID, learnt from auth.test, and the
	// events already handled, so Slack's retries run nothing twice.
	mu        sync.Mutex
	botUserID string
	seen      *recent
}

var (
	_ notify.Channel = (*Channel)(nil)
	_ notify.Noter   = (*Channel)(nil)
	_ notify.Chat    = (*Channel)(nil)
	_ notify.Rooms   = (*Channel)(nil)
	_ notify.Inbound = (*Channel)(nil)
	_ notify.Factory = New
)

// New builds a Slack channel from its configuration, without any network
// call.
func New(ch config.Channel, env notify.Env) (notify.Channel, error) {
	var cfg Config
	if err := ch.Decode(&cfg); err != nil {
		return nil, err
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if u, err := url.Parse(cfg.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ch.Errorf("api_url", "%q is not an http(s) URL", cfg.APIURL)
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/" // slack-go appends the method name
	}
	if cfg.BotToken == "" {
		return nil, ch.Errorf("bot_token", "missing: the app's bot token (xoxb-…)")
	}
	if cfg.SigningSecret == "" {
		return nil, ch.Errorf("signing_secret", "missing: the app's signing secret, to check requests come from Slack")
	}
	if !channelID.MatchString(cfg.Channel) {
		return nil, ch.Errorf("channel", "%q is not a channel ID: want an ID like C0123456789 (channel details → About), not a #name", cfg.Channel)
	}
	var mentions []string
	for _, id := range cfg.Mention {
		switch {
		case userID.MatchString(id):
			mentions = append(mentions, "<@"+id+">")
		case groupID.MatchString(id):
			mentions = append(mentions, "<!subteam^"+id+">")
		default:
			return nil, ch.Errorf("mention", "%q is not a user ID (U…, W…) or user-group ID (S…)", id)
		}
	}
	if env.Client == nil {
		env.Client = notify.NewHTTPClient()
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	return &Channel{
		name:     ch.Name,
		channel:  cfg.Channel,
		secret:   string(cfg.SigningSecret),
		mentions: strings.Join(mentions, " "),
		api:      slack.New(string(cfg.BotToken), slack.OptionAPIURL(cfg.APIURL), slack.OptionHTTPClient(env.Client)),
		env:      env,
		seen:     newRecent(1024),
	}, nil
}

// String names the channel without its token or signing secret, so a
// logged or printed Channel leaks neither.
func (c *Channel) String() string { return "slack channel " + c.name + " (" + c.channel + ")" }

// GoString is String, for %#v.
func (c *Channel) GoString() string { return c.String() }
