// Package googlechat posts alerts to a Google Chat space through an incoming
// webhook and, when configured as a Chat app, takes commands ("@Klaxon ack
// 12") from it.
//
// An incoming webhook can post but never edit, so each group gets one thread
// (keyed by the group): the first post is a card, and what people need to
// hear later (acknowledged, resolved, more alerts, still firing) is a short
// reply in that thread. Notes (diagnostics output) are cards in that
// thread too. The first post mentions the people on call on an "On call:"
// line; pages (escalation steps, hand-offs) mention people in the group's
// thread or in a thread of their own, under the page's key as request ID.
// An incident gets a thread of its own (OpenRoom), and commands typed in a
// thread carry it as Command.Room.
package googlechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// DefaultCertsURL publishes the certificates that sign Chat's bearer tokens.
const DefaultCertsURL = "https://www.googleapis.com/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com"

// replyOption makes a post with a thread key join that thread (or start it).
// Without it Chat ignores the key and every post starts a new thread.
const replyOption = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"

// Config is a googlechat channel's configuration.
type Config struct {
	// WebhookURL is the space's incoming webhook; its key and token make
	// it a secret.
	WebhookURL config.Secret `yaml:"webhook_url"`
	// VerificationToken is a Chat app's legacy verification token, sent
	// in every interaction event.
	VerificationToken config.Secret `yaml:"verification_token"`
	// Audience is the Chat app's Cloud project number, the audience of the
	// bearer tokens Chat signs.
	Audience string `yaml:"audience"`
	CertsURL string `yaml:"certs_url"`
	// Mention lists the people critical messages mention, e.g.
	// "users/123456789".
	Mention []string `yaml:"mention"`
}

// Channel posts to one space and answers its Chat app's events. It
// implements notify.Channel, notify.Noter, notify.Chat, notify.Rooms and
// notify.Inbound.
type Channel struct {
	name     string
	webhook  string // secret: carries key and token
	token    string // secret
	audience string
	mention  []string
	client   *http.Client
	log      *slog.Logger
	certs    *certCache
	now      func() time.Time
}

var (
	_ notify.Channel = (*Channel)(nil)
	_ notify.Noter   = (*Channel)(nil)
	_ notify.Chat    = (*Channel)(nil)
	_ notify.Rooms   = (*Channel)(nil)
	_ notify.Inbound = (*Channel)(nil)
)

var (
	userName      = regexp.MustCompile(`^users/[0-9A-Za-z]+$`)
	projectNumber = regexp.MustCompile(`^[0-9]+$`)
)

// New validates the channel's configuration; it makes no network call.
func New(ch config.Channel, env notify.Env) (notify.Channel, error) {
	var cfg Config
	if err := ch.Decode(&cfg); err != nil {
		return nil, err
	}
	if cfg.WebhookURL == "" {
		return nil, ch.Errorf("webhook_url", "missing (the space's incoming webhook URL)")
	}
	if err := checkWebhook(string(cfg.WebhookURL)); err != nil {
		return nil, ch.Errorf("webhook_url", "%v", err)
	}
	if cfg.Audience != "" && !projectNumber.MatchString(cfg.Audience) {
		return nil, ch.Errorf("audience", "%q is not a project number (the Chat app's Google Cloud project number)", cfg.Audience)
	}
	if cfg.CertsURL == "" {
		cfg.CertsURL = DefaultCertsURL
	}
	if !notify.HTTPSOrLoopback(cfg.CertsURL) {
		return nil, ch.Errorf("certs_url", "%q is not an https URL", cfg.CertsURL)
	}
	for i, m := range cfg.Mention {
		if !userName.MatchString(m) {
			return nil, ch.Errorf("mention", "mention[%d] %q is not a user, e.g. users/123456789", i, m)
		}
	}
	client := env.Client
	if client == nil {
		client = notify.NewHTTPClient()
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Channel{
		name: ch.Name, webhook: string(cfg.WebhookURL), token: string(cfg.VerificationToken),
		audience: cfg.Audience, mention: cfg.Mention, client: client, log: log, now: time.Now,
	}
	c.certs = &certCache{url: cfg.CertsURL, client: client, now: func() time.Time { return c.now() }}
	return c, nil
}

// checkWebhook says what is wrong with a webhook URL without repeating it.
func checkWebhook(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "":
		return errors.New("not a URL")
	case !notify.HTTPSOrLoopback(s):
		return errors.New("not an https URL")
	case u.Query().Get("key") == "" || u.Query().Get("token") == "":
		return errors.New("has no key and token: copy the whole URL from the space's Apps & integrations → Webhooks")
	}
	return nil
}

// ThreadKey is the key of a group's thread.
func ThreadKey(groupID int64) string { return fmt.Sprintf("klaxon-group-%d", groupID) }

// ref is what Send remembers of the posted thread.
type ref struct {
	Thread string             `json:"thread,omitempty"` // spaces/…/threads/…
	State  klaxon.State       `json:"state"`
	Counts klaxon.GroupCounts `json:"counts"`
}

// Send posts the group's card the first time and, later, a reply in its
// thread when something people care about changed (state, or a group's
// counts) or a reminder is due. Nothing changed means nothing is posted.
func (c *Channel) Send(ctx context.Context, d notify.Delivery) (string, error) {
	m := d.Message
	var prev ref
	if d.Ref == "" || json.Unmarshal([]byte(d.Ref), &prev) != nil || prev.State == "" {
		// First post, or a ref this version cannot read: post the card
		// (into the same thread, by its key).
		people, ids := c.callList(m.Mention)
		// Keyed by the notification, not its version: a retry whose first
		// answer was lost finds the card it posted instead of a second.
		got, err := c.post(ctx, renderCard(m, withoutIDs(c.mentionsFor(m), ids), onCallLine(people)), d.PostKey())
		if err != nil {
			return "", err
		}
		return encodeRef(ref{Thread: got.Thread.Name, State: m.State, Counts: m.Counts}), nil
	}
	text := followUp(m, prev, d.Remind, c.mentionsFor(m))
	if text == "" {
		return d.Ref, nil
	}
	got, err := c.post(ctx, chatMessage{Text: text, Thread: &chatThread{ThreadKey: ThreadKey(m.GroupID)}}, "")
	if err != nil {
		return "", err
	}
	thread := got.Thread.Name
	if thread == "" {
		thread = prev.Thread
	}
	return encodeRef(ref{Thread: thread, State: m.State, Counts: m.Counts}), nil
}

// mentionsFor returns the configured people to mention on a critical
// message.
func (c *Channel) mentionsFor(m *notify.Message) []string {
	if !m.Critical() {
		return nil
	}
	return c.mention
}

func encodeRef(r ref) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// posted is the part of Chat's answer to a post that Klaxon keeps: the
// message's name and its thread's.
type posted struct {
	Name   string `json:"name"`
	Thread struct {
		Name string `json:"name"`
	} `json:"thread"`
}

// post sends one message to the webhook and returns what Chat made of it.
// requestID, when set, makes the post idempotent: Chat answers a repeated
// request ID with the message it created the first time.
func (c *Channel) post(ctx context.Context, msg chatMessage, requestID string) (posted, error) {
	var answer posted
	body, err := encode(msg)
	if err != nil {
		return answer, notify.Permanent(fmt.Errorf("googlechat: encode: %w", err))
	}
	u, err := url.Parse(c.webhook)
	if err != nil {
		return answer, notify.Permanent(errors.New("googlechat: the webhook URL does not parse"))
	}
	q := u.Query()
	q.Set("messageReplyOption", replyOption)
	if requestID != "" {
		q.Set("requestId", requestID)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return answer, notify.Permanent(errors.New("googlechat: cannot build the request"))
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("User-Agent", "Klaxon")
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the webhook's key and token
		}
		return answer, fmt.Errorf("googlechat: post: %w", err)
	}
	raw := c.redact(notify.ReadBody(resp))
	if err := notify.StatusError("googlechat", resp, raw); err != nil {
		return answer, err
	}
	_ = json.Unmarshal(raw, &answer) // a 2xx is a post, whatever its body says
	return answer, nil
}

// encode is msg as the webhook gets it.
func encode(msg chatMessage) ([]byte, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // what is escaped was escaped for Chat already
	if err := enc.Encode(msg); err != nil {
		return nil, err
	}
	return body.Bytes(), nil
}

// redact removes the webhook's key and token from a response body, which
// may end up in an error that is logged and stored.
func (c *Channel) redact(b []byte) []byte {
	u, err := url.Parse(c.webhook)
	if err != nil {
		return b
	}
	for _, k := range []string{"key", "token"} {
		if v := u.Query().Get(k); v != "" {
			b = bytes.ReplaceAll(b, []byte(v), []byte("<redacted>"))
		}
	}
	return b
}
