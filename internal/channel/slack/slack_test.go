package slack

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

const (
	testName    = "slack-alerts"
	testChannel = "C0ALERTS"
	testSecret  = "8f742231b10e8888abcd99yyyzzz85a5"
)

// channelConfig parses a channel's YAML as the config package would.
func channelConfig(t *testing.T, doc string) config.Channel {
	t.Helper()
	var ch config.Channel
	if err := yaml.Unmarshal([]byte(doc), &ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

func testEnv() notify.Env {
	return notify.Env{BaseURL: notifytest.BaseURL, Logger: slog.New(slog.DiscardHandler), Client: &http.Client{}}
}

// newChannel builds a channel that talks to the fake.
func newChannel(t *testing.T, s *chattest.Slack) *Channel {
	t.Helper()
	ch, err := New(channelConfig(t, fmt.Sprintf(`
name: %s
type: slack
api_url: %s
bot_token: %s
signing_secret: %s
channel: %s
mention: [U0ALICE, S0ONCALL]
`, testName, s.URL, chattest.SlackBotToken, testSecret, testChannel)), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	return ch.(*Channel)
}

func TestNew(t *testing.T) {
	base := "name: s\ntype: slack\nbot_token: xoxb-secret-token\nsigning_secret: shh\nchannel: C0ALERTS\n"
	ch, err := New(channelConfig(t, base), testEnv())
	if err != nil {
		t.Fatalf("valid config: %v", err)
	}
	if c := ch.(*Channel); c.mentions != "" || c.channel != "C0ALERTS" {
		t.Errorf("got mentions %q channel %q", c.mentions, c.channel)
	}
	ch, err = New(channelConfig(t, base+"mention: [U0ALICE, W0BOB, S0ONCALL]\n"), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ch.(*Channel).mentions, "<@U0ALICE> <@W0BOB> <!subteam^S0ONCALL>"; got != want {
		t.Errorf("mentions: got %q, want %q", got, want)
	}

	for _, tc := range []struct {
		name, doc, wantKey string
	}{
		{"no token", "name: s\ntype: slack\nsigning_secret: shh\nchannel: C0ALERTS\n", "bot_token"},
		{"no secret", "name: s\ntype: slack\nbot_token: xoxb-secret-token\nchannel: C0ALERTS\n", "signing_secret"},
		{"no channel", "name: s\ntype: slack\nbot_token: xoxb-secret-token\nsigning_secret: shh\n", "channel"},
		{"channel name", strings.Replace(base, "C0ALERTS", "'#alerts'", 1), "channel"},
		{"bad mention", base + "mention: ['@alice']\n", "mention"},
		{"here mention", base + "mention: ['<!here>']\n", "mention"},
		{"bad url", base + "api_url: ftp://slack.com/api/\n", "api_url"},
		{"relative url", base + "api_url: /api/\n", "api_url"},
		{"unknown key", base + "webhook: https://hooks.slack.com/x\n", "webhook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(channelConfig(t, tc.doc), testEnv())
			if err == nil {
				t.Fatalf("got no error, want one about %s", tc.wantKey)
			}
			if !strings.Contains(err.Error(), tc.wantKey) {
				t.Errorf("got %q, want it to name %s", err, tc.wantKey)
			}
			if strings.Contains(err.Error(), "xoxb-secret-token") || strings.Contains(err.Error(), "shh") {
				t.Errorf("error leaks a secret: %q", err)
			}
		})
	}
}

func TestChannelDoesNotPrintSecrets(t *testing.T) {
	ch := newChannel(t, chattest.NewSlack(t))
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(format, ch); strings.Contains(got, chattest.SlackBotToken) || strings.Contains(got, testSecret) {
			t.Errorf("%s leaks a secret: %s", format, got)
		}
	}
}

func TestNewAPIURLGetsSlash(t *testing.T) {
	s := chattest.NewSlack(t)
	doc := fmt.Sprintf("name: s\ntype: slack\napi_url: %s\nbot_token: %s\nsigning_secret: shh\nchannel: C0ALERTS\n",
		strings.TrimSuffix(s.URL, "/"), chattest.SlackBotToken)
	ch, err := New(channelConfig(t, doc), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	m := notifytest.Cases()["warning_firing"]
	if _, err := ch.Send(context.Background(), notify.Delivery{ID: 1, Version: 1, Attempt: 1, Message: m}); err != nil {
		t.Fatalf("api_url without a trailing slash: %v", err)
	}
}

// commander records the commands it is given and answers with reply.
type commander struct {
	mu    sync.Mutex
	got   []notify.Command
	reply string
}

func (c *commander) Command(_ context.Context, cmd notify.Command) notify.Reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, cmd)
	return notify.Reply{Text: c.reply}
}

func (c *commander) commands() []notify.Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]notify.Command(nil), c.got...)
}
