// Package webhook posts each group's state as signed JSON to a URL of the
// user's choosing, for tools Klaxon has no package for. Every request
// carries a delivery ID (the same on a retry, so receivers can drop
// duplicates) and an HMAC-SHA256 signature of the body that Verify checks.
//
// Three bodies are posted: a group's state (Payload, which has no "type"
// field, as it had none before notes), a note about the group, such as
// diagnostics output (NotePayload, whose "type" is always "note"), and a
// page (PagePayload, whose "type" is always "page"): people an escalation
// step calls to a group, or a notice about no group such as a hand-off. A
// receiver tells them apart by that field.
//
// A page looks like this (message has the shape of a Payload's group;
// it and group_id are absent from a page about no group; every person
// has all five fields, "" where they have no identity):
//
//	{
//	  "type": "page", "version": "1", "key": "klaxon-page-7.1.2-hook",
//	  "text": "Unacknowledged for 15m: escalation step 2 of 3 (policy default)",
//	  "people": [{"name": "alice", "matrix": "@alice:example.org", "slack": "U0ALICE",
//	              "google_chat": "users/111", "email": "alice@example.org"}],
//	  "group_id": 7,
//	  "message": {"id": 7, "title": "KubePodCrashLooping", "state": "firing", "level": 0,
//	              "level_name": "P0", "labels": {…}, "counts": {…}, "url": "https://…/alerts/12"}
//	}
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// Version is the payload's format version; a change that breaks receivers
// bumps it.
const Version = "1"

// Headers Klaxon sets on every request.
const (
	HeaderDelivery  = "X-Klaxon-Delivery"
	HeaderSignature = "X-Klaxon-Signature"
)

// minSecret is the shortest signing secret accepted: 16 characters of a
// random secret is already 80+ bits.
const minSecret = 16

// Config is a webhook channel's configuration.
type Config struct {
	URL    string        `yaml:"url"`
	Secret config.Secret `yaml:"secret"`
	// Headers are sent with every request, e.g. an Authorization header
	// the receiver wants. Their values are treated as secrets.
	Headers map[string]string `yaml:"headers"`
}

// Channel posts to one webhook. It implements notify.Channel,
// notify.Noter and notify.Pager.
type Channel struct {
	url     string
	secret  []byte
	headers map[string]string
	client  *http.Client
}

var (
	_ notify.Channel = (*Channel)(nil)
	_ notify.Noter   = (*Channel)(nil)
	_ notify.Pager   = (*Channel)(nil)
)

// reserved headers are Klaxon's own: configured headers may not replace them.
var reserved = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Host": true, "User-Agent": true,
	HeaderDelivery: true, HeaderSignature: true, "Transfer-Encoding": true, "Connection": true,
}

var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// New validates the channel's configuration; it makes no network call.
func New(ch config.Channel, env notify.Env) (notify.Channel, error) {
	var cfg Config
	if err := ch.Decode(&cfg); err != nil {
		return nil, err
	}
	switch u, err := url.Parse(cfg.URL); {
	case cfg.URL == "":
		return nil, ch.Errorf("url", "missing")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		// The URL may carry a token: do not repeat it.
		return nil, ch.Errorf("url", "not an http(s) URL")
	}
	switch {
	case cfg.Secret == "":
		return nil, ch.Errorf("secret", "missing (receivers check the signature with it; e.g. `openssl rand -hex 16`)")
	case len(cfg.Secret) < minSecret:
		return nil, ch.Errorf("secret", "too short (%d characters; use at least %d)", len(cfg.Secret), minSecret)
	}
	headers := make(map[string]string, len(cfg.Headers))
	for name, v := range cfg.Headers {
		canon := textproto.CanonicalMIMEHeaderKey(name)
		switch {
		case !headerName.MatchString(name):
			return nil, ch.Errorf("headers", "%q is not a header name", name)
		case reserved[canon]:
			return nil, ch.Errorf("headers", "%s is set by Klaxon", canon)
		case strings.ContainsAny(v, "\r\n\x00"):
			return nil, ch.Errorf("headers", "the value of %s has a line break", canon)
		}
		headers[canon] = v
	}
	client := env.Client
	if client == nil {
		client = notify.NewHTTPClient()
	}
	return &Channel{url: cfg.URL, secret: []byte(cfg.Secret), headers: headers, client: client}, nil
}

// Payload is the JSON body of a group's state.
type Payload struct {
	Version  string          `json:"version"`
	Delivery string          `json:"delivery"` // the same on a retry of the same content
	Remind   bool            `json:"remind"`   // a "still firing" reminder, not a change
	Group    Group           `json:"group"`
	Alerts   []*klaxon.Alert `json:"alerts"` // the members shown, open first, most severe first
	// Runbook is the runbook Klaxon matched for the first alert; absent
	// when none did (the alert's runbook_url annotation is in alerts).
	Runbook *Runbook `json:"runbook,omitempty"`
}

// Runbook is the runbook a Payload's group is handled with: its title, its
// page in Klaxon (filled for the alert), its first diagnose steps with the
// alert's labels filled in (at most notify.MaxSteps), and how many more
// steps it has.
type Runbook struct {
	Title string   `json:"title"`
	URL   string   `json:"url"`
	Steps []string `json:"steps"`
	More  int      `json:"more"`
}

// Group is the group's state in a Payload (and a PagePayload's message).
type Group struct {
	ID        int64              `json:"id"`
	Title     string             `json:"title"`
	State     klaxon.State       `json:"state"`
	Level     klaxon.Level       `json:"level"`
	LevelName string             `json:"level_name"`
	Labels    map[string]string  `json:"labels"`
	Counts    klaxon.GroupCounts `json:"counts"`
	URL       string             `json:"url"`
}

// group is a message's group as payloads carry it; receivers get {} for
// no labels, never null.
func group(m *notify.Message) Group {
	g := Group{
		ID: m.GroupID, Title: m.Title, State: m.State, Level: m.Level, LevelName: m.LevelName,
		Labels: m.Labels, Counts: m.Counts, URL: m.URL,
	}
	if g.Labels == nil {
		g.Labels = map[string]string{}
	}
	return g
}

// Send posts the group's state. A webhook keeps nothing between sends, so
// the ref is always "".
func (c *Channel) Send(ctx context.Context, d notify.Delivery) (string, error) {
	m := d.Message
	p := Payload{Version: Version, Delivery: d.IdempotencyKey(), Remind: d.Remind, Group: group(m), Alerts: m.Alerts}
	if rb := m.Runbook; rb != nil {
		p.Runbook = &Runbook{Title: rb.Title, URL: rb.URL, Steps: rb.Steps, More: rb.More}
		if p.Runbook.Steps == nil {
			p.Runbook.Steps = []string{}
		}
	}
	// Receivers get [] and {}, never null.
	if p.Alerts == nil {
		p.Alerts = []*klaxon.Alert{}
	}
	return "", c.post(ctx, p.Delivery, p)
}

// post sends v as a signed JSON body, with delivery as its delivery ID.
func (c *Channel) post(ctx context.Context, delivery string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return notify.Permanent(fmt.Errorf("webhook: encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(errors.New("webhook: cannot build the request"))
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Klaxon")
	req.Header.Set(HeaderDelivery, delivery)
	req.Header.Set(HeaderSignature, Sign(c.secret, body))
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: post: %w", stripURL(err))
	}
	return notify.StatusError("webhook", resp, c.redact(notify.ReadBody(resp)))
}

// redact removes the channel's credentials from a receiver's answer, which
// may repeat the request and ends up in an error that is logged and stored:
// the URL, its password and query values (a token often rides there), the
// header values and the signing secret. Values under 8 characters stay:
// too short to be secrets, replacing them would garble the answer.
func (c *Channel) redact(b []byte) []byte {
	secrets := []string{c.url, string(c.secret)}
	if u, err := url.Parse(c.url); err == nil {
		pass, _ := u.User.Password()
		secrets = append(secrets, pass)
		for _, param := range strings.Split(u.RawQuery, "&") {
			_, raw, _ := strings.Cut(param, "=")
			v, _ := url.QueryUnescape(raw)
			secrets = append(secrets, raw, v) // as sent, and as a receiver may print it
		}
	}
	for _, v := range c.headers {
		secrets = append(secrets, v)
		secrets = append(secrets, strings.Fields(v)...) // the credential of "Bearer …"
	}
	for _, s := range secrets {
		if len(s) >= 8 {
			b = bytes.ReplaceAll(b, []byte(s), []byte("<redacted>"))
		}
	}
	return b
}

// Sign returns the X-Klaxon-Signature value for body: "sha256=" and the
// hex HMAC-SHA256 of the body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether header, an X-Klaxon-Signature value, signs body
// under secret. It takes the same time whatever the header holds, so a
// receiver can use it without leaking the signature bit by bit.
func Verify(secret, body []byte, header string) bool {
	want := Sign(secret, body)
	return hmac.Equal([]byte(header), []byte(want))
}

// stripURL drops the URL (which may carry a token) from a client error.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
