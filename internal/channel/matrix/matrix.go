// Package matrix posts alert messages to a Matrix room and takes chat
// commands from it, over the client-server API v3 with plain net/http.
//
// A group's message is posted once, under a transaction ID derived from the
// delivery, so a retry never double-posts; later changes edit it in place
// (m.replace), and reminders and notes (diagnostics output) go to its
// thread. The first post mentions the people on call (an "On call:" line
// of pills); an edit never mentions anyone anew. Pages (escalation steps,
// hand-offs) mention people in the group's thread or in the room, under
// the page's key as transaction ID. An incident can get a private room of
// its own (OpenRoom). Listen follows the room, and the incident rooms the
// bot is in, with /sync and answers commands such as "ack 12" in their
// thread, in the room they were typed in.
package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// Type is the channel type that selects this package in the configuration.
const Type = "matrix"

// Config is a Matrix channel's configuration.
type Config struct {
	Homeserver  string        `yaml:"homeserver"`   // e.g. https://matrix.example.org
	AccessToken config.Secret `yaml:"access_token"` // the bot account's token
	Room        string        `yaml:"room"`         // !id:server or #alias:server
	Mention     []string      `yaml:"mention"`      // user IDs mentioned on critical messages
}

// Channel posts to one Matrix room. It implements notify.Channel,
// notify.Noter, notify.Chat, notify.Rooms and notify.Listener.
type Channel struct {
	name       string
	homeserver string // without a trailing slash
	token      config.Secret
	room       string // as configured: an ID or an alias
	mention    []string
	client     *http.Client // Send and replies
	syncClient *http.Client // the /sync long-poll: the same transport, a longer timeout
	log        *slog.Logger

	mu     sync.Mutex
	roomID string // the configured room's ID, once resolved
	joined bool
}

var (
	_ notify.Channel  = (*Channel)(nil)
	_ notify.Noter    = (*Channel)(nil)
	_ notify.Chat     = (*Channel)(nil)
	_ notify.Rooms    = (*Channel)(nil)
	_ notify.Listener = (*Channel)(nil)
)

var (
	// roomPattern is a room ID or alias: sigil, opaque part, server name.
	roomPattern = regexp.MustCompile(`^[!#][^:\s]+:` + serverName + `$`)
	// userPattern is a user ID with the localpart grammar of the spec
	// (plus upper case, which older accounts have).
	userPattern = regexp.MustCompile(`^@[a-zA-Z0-9._=\-/+]+:` + serverName + `$`)
)

// serverName is a hostname, IPv4 or bracketed IPv6 address, with an
// optional port.
const serverName = `(?:[a-zA-Z0-9.\-]+|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?`

// New builds a Matrix channel from its configuration, without any network
// call. It matches notify.Factory.
func New(ch config.Channel, env notify.Env) (notify.Channel, error) {
	var cfg Config
	if err := ch.Decode(&cfg); err != nil {
		return nil, err
	}
	if err := validate(ch, &cfg); err != nil {
		return nil, err
	}
	client := env.Client
	if client == nil {
		client = notify.NewHTTPClient()
	}
	syncClient := *client
	syncClient.Timeout = syncTimeout + notify.HTTPTimeout
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Channel{
		name:       ch.Name,
		homeserver: strings.TrimSuffix(cfg.Homeserver, "/"),
		token:      cfg.AccessToken,
		room:       cfg.Room,
		mention:    cfg.Mention,
		client:     client,
		syncClient: &syncClient,
		log:        logger.With(slog.String(logChannel, ch.Name)),
	}, nil
}

// String names the channel without its token, for %v in logs.
func (c *Channel) String() string {
	return fmt.Sprintf("matrix channel %s (%s on %s)", c.name, c.room, c.homeserver)
}

// GoString is String: %#v must not print the token either.
func (c *Channel) GoString() string { return c.String() }

// validate reports every problem with cfg, each with its key and line.
func validate(ch config.Channel, cfg *Config) error {
	var errs []error
	if u, err := url.Parse(cfg.Homeserver); cfg.Homeserver == "" {
		errs = append(errs, ch.Errorf("homeserver", "missing: the homeserver's client API URL, e.g. https://matrix.example.org"))
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, ch.Errorf("homeserver", "%q is not an http(s) URL", cfg.Homeserver))
	}
	if cfg.AccessToken == "" {
		errs = append(errs, ch.Errorf("access_token", "missing: the bot account's access token"))
	}
	if cfg.Room == "" {
		errs = append(errs, ch.Errorf("room", "missing: a room ID (!abc:example.org) or alias (#alerts:example.org)"))
	} else if !roomPattern.MatchString(cfg.Room) {
		errs = append(errs, ch.Errorf("room", "%q is neither a room ID (!abc:example.org) nor an alias (#alerts:example.org)", cfg.Room))
	}
	for i, id := range cfg.Mention {
		if !userPattern.MatchString(id) {
			errs = append(errs, ch.Errorf("mention", "item %d: %q is not a Matrix user ID like @alice:example.org", i, id))
		}
	}
	return joinConfigErrors(errs)
}

// joinConfigErrors merges config errors into one, so a user sees every
// problem in one run.
func joinConfigErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	var first *config.Error
	if !errors.As(errs[0], &first) {
		return errors.Join(errs...)
	}
	merged := &config.Error{File: first.File}
	for _, err := range errs {
		var ce *config.Error
		if !errors.As(err, &ce) {
			return errors.Join(errs...)
		}
		merged.Problems = append(merged.Problems, ce.Problems...)
	}
	return merged
}

// ref is what Send remembers of a posted message.
type ref struct {
	Room  string `json:"room"`
	Event string `json:"event"`
}

func (r ref) String() string {
	b, _ := json.Marshal(r)
	return string(b)
}

func parseRef(s string) (ref, error) {
	var r ref
	if err := json.Unmarshal([]byte(s), &r); err != nil || r.Room == "" || r.Event == "" {
		return ref{}, fmt.Errorf("matrix: unusable message ref %q", s)
	}
	return r, nil
}

// Send posts the group's message, or edits the posted one and, with
// d.Remind, adds a reminder to its thread.
func (c *Channel) Send(ctx context.Context, d notify.Delivery) (string, error) {
	if d.Message == nil {
		return "", notify.Permanent(errors.New("matrix: delivery has no message"))
	}
	// The people on call show on edits too, but an edit's outer
	// m.mentions is empty (replacement): only the first post rings.
	msg := render(d.Message, c.mentions(d.Message), c.people(d.Message.Mention))
	if d.Ref == "" {
		// A first post is itself the notification: no reminder on top.
		room, err := c.joinRoom(ctx)
		if err != nil {
			return "", err
		}
		id, err := c.sendMessage(ctx, room, d.PostKey(), msg)
		if err != nil {
			return "", fmt.Errorf("post to %s: %w", room, err)
		}
		r := ref{Room: room, Event: id}
		if d.Attempt > 1 {
			// An earlier attempt may have posted older content under
			// the same transaction, which the homeserver answers with
			// that event: bring it up to date.
			if _, err := c.sendMessage(ctx, room, d.IdempotencyKey(), replacement(msg, id)); err != nil {
				return "", fmt.Errorf("edit %s in %s: %w", id, room, err)
			}
		}
		return r.String(), nil
	}
	r, err := parseRef(d.Ref)
	if err != nil {
		return "", notify.Permanent(err)
	}
	if _, err := c.sendMessage(ctx, r.Room, d.IdempotencyKey(), replacement(msg, r.Event)); err != nil {
		return "", fmt.Errorf("edit %s in %s: %w", r.Event, r.Room, err)
	}
	if d.Remind {
		txn := d.IdempotencyKey() + ".remind"
		if _, err := c.sendMessage(ctx, r.Room, txn, reminder(d.Message, r.Event, c.mentions(d.Message))); err != nil {
			return "", fmt.Errorf("remind in %s: %w", r.Room, err)
		}
	}
	return d.Ref, nil
}

// mentions lists who a message mentions: the configured people while it is
// critical, nobody otherwise.
func (c *Channel) mentions(m *notify.Message) []string {
	if m.Critical() {
		return c.mention
	}
	return nil
}

// Log attribute keys.
const (
	logChannel = "channel"
	logError   = "error"
	logEvent   = "event_id"
	logWait    = "wait"
)
