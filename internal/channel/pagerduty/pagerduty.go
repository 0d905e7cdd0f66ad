// Package pagerduty pages through the PagerDuty Events API v2: a group at a
// paging level triggers an incident (deduplicated by the group), and the
// group's acknowledgement and resolution follow it there. It only sends
// when the action changes, so a storm of updates is one page.
//
// An escalation step that pages PagerDuty (Page) triggers the group's
// incident whatever its level: the policy chose to page. The page's text
// goes into the incident's custom details.
package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// DefaultURL is the Events API v2 endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// routingKeyLen is the length of every Events API v2 integration key.
const routingKeyLen = 32

// maxSummary is PagerDuty's limit on payload.summary, in characters.
const maxSummary = 1024

// Bounds on the runbook's text, so an event stays far below PagerDuty's
// 512 KB.
const (
	maxLinkText = 300
	maxStep     = 4000
)

// Event actions, which are also the Ref a Send returns.
const (
	actionTrigger     = "trigger"
	actionAcknowledge = "acknowledge"
	actionResolve     = "resolve"
)

// Config is a pagerduty channel's configuration.
type Config struct {
	URL        string        `yaml:"url"`
	RoutingKey config.Secret `yaml:"routing_key"`
	// Severities are the level names that page, e.g. [P0, P1].
	Severities []string `yaml:"severities"`
}

// Channel sends one service's events. It implements notify.Channel and
// notify.Pager; it is no notify.Chat: nobody is mentioned on PagerDuty,
// its own escalation policy decides whom to call.
type Channel struct {
	url        string
	routingKey string
	severities []string
	client     *http.Client
	now        func() time.Time
}

var (
	_ notify.Channel = (*Channel)(nil)
	_ notify.Pager   = (*Channel)(nil)
)

// New validates the channel's configuration; it makes no network call.
func New(ch config.Channel, env notify.Env) (notify.Channel, error) {
	var cfg Config
	if err := ch.Decode(&cfg); err != nil {
		return nil, err
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if !notify.HTTPSOrLoopback(cfg.URL) {
		return nil, ch.Errorf("url", "%q is not an https URL", cfg.URL)
	}
	switch {
	case cfg.RoutingKey == "":
		return nil, ch.Errorf("routing_key", "missing (the integration key of an Events API v2 integration)")
	case len(cfg.RoutingKey) != routingKeyLen:
		return nil, ch.Errorf("routing_key", "got %d characters, want %d (the integration key of an Events API v2 integration)", len(cfg.RoutingKey), routingKeyLen)
	}
	if cfg.Severities == nil {
		cfg.Severities = []string{"P0"}
	}
	if len(cfg.Severities) == 0 {
		return nil, ch.Errorf("severities", "empty: nothing would ever page")
	}
	for _, s := range cfg.Severities {
		if strings.TrimSpace(s) == "" {
			return nil, ch.Errorf("severities", "has an empty level name")
		}
	}
	client := env.Client
	if client == nil {
		client = notify.NewHTTPClient()
	}
	return &Channel{url: cfg.URL, routingKey: string(cfg.RoutingKey), severities: cfg.Severities, client: client, now: time.Now}, nil
}

// Send triggers, acknowledges or resolves the group's incident when that
// differs from what was last sent (the Ref). It never acknowledges or
// resolves an incident it did not trigger, and reminders send nothing:
// PagerDuty escalates on its own.
func (c *Channel) Send(ctx context.Context, d notify.Delivery) (string, error) {
	action := c.action(d.Message)
	switch {
	case action == "" || action == d.Ref:
		return d.Ref, nil
	case d.Ref == "" && action != actionTrigger:
		return d.Ref, nil // never paged: nothing to acknowledge or resolve
	}
	if err := c.post(ctx, c.event(action, d.Message)); err != nil {
		return "", err
	}
	return action, nil
}

// Page triggers the group's incident, below the paging levels too (an
// escalation policy chose to page), with the page's text in its custom
// details. It returns the trigger action, which Send continues from: a
// later acknowledgement of the group acknowledges the incident. PagerDuty
// deduplicates by the group, so a retry adds nothing but an event to the
// open incident.
func (c *Channel) Page(ctx context.Context, p notify.PageDelivery) (string, error) {
	if p.Message == nil {
		return "", notify.Permanent(errors.New("pagerduty: PagerDuty pages are about a group, and this page has none"))
	}
	ev := c.event(actionTrigger, p.Message)
	ev.Payload.CustomDetails.Page = truncate(strings.TrimSpace(p.Text), maxStep)
	if err := c.post(ctx, ev); err != nil {
		return "", err
	}
	return actionTrigger, nil
}

// action is what PagerDuty should hear of the group now, or "" for
// nothing: a firing group below the paging levels does not page.
func (c *Channel) action(m *notify.Message) string {
	switch m.State {
	case klaxon.StateResolved:
		return actionResolve
	case klaxon.StateAcknowledged:
		return actionAcknowledge
	case klaxon.StateFiring:
		if slices.Contains(c.severities, m.LevelName) {
			return actionTrigger
		}
	}
	return ""
}

// DedupKey is the incident key of a group: one incident per group.
func DedupKey(groupID int64) string { return fmt.Sprintf("klaxon-group-%d", groupID) }

// event is an Events API v2 request body.
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *payload `json:"payload,omitempty"`
	Links       []link   `json:"links,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

type payload struct {
	Summary       string  `json:"summary"`
	Source        string  `json:"source"`
	Severity      string  `json:"severity"`
	Timestamp     string  `json:"timestamp"`
	Component     string  `json:"component,omitempty"`
	Group         string  `json:"group,omitempty"`
	Class         string  `json:"class,omitempty"`
	CustomDetails details `json:"custom_details"`
}

type details struct {
	// Page is why an escalation step paged, e.g. "Unacknowledged for
	// 15m: escalation step 2 of 3"; absent from Send's triggers.
	Page   string             `json:"page,omitempty"`
	State  klaxon.State       `json:"state"`
	Counts klaxon.GroupCounts `json:"counts"`
	Alerts []alertDetail      `json:"alerts"`
	// Runbook and RunbookSteps are the runbook Klaxon matched, its title
	// and first diagnose steps; links has its URL.
	Runbook      string   `json:"runbook,omitempty"`
	RunbookSteps []string `json:"runbook_steps,omitempty"`
}

type alertDetail struct {
	ID      int64        `json:"id"`
	Name    string       `json:"name"`
	State   klaxon.State `json:"state"`
	Where   string       `json:"where,omitempty"`
	Summary string       `json:"summary,omitempty"`
	URL     string       `json:"url"`
}

type link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// severities maps Klaxon's levels (0 most severe) to PagerDuty's words.
var severities = []string{"critical", "error", "warning", "info"}

func (c *Channel) event(action string, m *notify.Message) event {
	ev := event{RoutingKey: c.routingKey, EventAction: action, DedupKey: DedupKey(m.GroupID)}
	if action != actionTrigger {
		return ev // acknowledge and resolve carry only the key
	}
	p := &payload{
		Summary:  truncate(m.Headline(), maxSummary),
		Source:   "klaxon",
		Severity: severities[min(max(int(m.Level), 0), len(severities)-1)],
		CustomDetails: details{
			State: m.State, Counts: m.Counts, Alerts: make([]alertDetail, 0, len(m.Alerts)),
		},
	}
	at := m.At
	if at.IsZero() {
		at = c.now()
	}
	p.Timestamp = at.UTC().Format(time.RFC3339)
	labels := m.Labels
	if a := m.Primary(); a != nil {
		if w := a.Where(); w != "" {
			p.Source = w
		}
		labels = a.Labels
	}
	p.Component, p.Group, p.Class = label(labels, m.Labels, "component"), label(labels, m.Labels, "group"), label(labels, m.Labels, "class")
	for _, a := range m.Alerts {
		p.CustomDetails.Alerts = append(p.CustomDetails.Alerts, alertDetail{
			ID: a.ID, Name: a.Name(), State: a.State, Where: a.Where(), Summary: a.Summary, URL: m.AlertURL(a.ID),
		})
	}
	ev.Payload = p
	if u := notify.SafeURL(m.URL); u != "" {
		ev.Links = append(ev.Links, link{Href: u, Text: "Klaxon"})
		ev.Client, ev.ClientURL = "Klaxon", u
	}
	if rb := m.Runbook; rb != nil {
		addRunbook(&ev, rb)
	} else if a := m.Primary(); a != nil {
		if u := notify.RunbookURL(a); u != "" {
			ev.Links = append(ev.Links, link{Href: u, Text: "Runbook"})
		}
	}
	return ev
}

// addRunbook puts the runbook Klaxon matched into a trigger: a link, and
// its title and first steps in the custom details (free-form JSON, shown
// as it is on the incident).
func addRunbook(ev *event, rb *notify.RunbookLink) {
	title := strings.Join(strings.Fields(rb.Title), " ")
	if u := notify.SafeURL(rb.URL); u != "" {
		text := "Runbook"
		if title != "" {
			text += ": " + truncate(title, maxLinkText)
		}
		ev.Links = append(ev.Links, link{Href: u, Text: text})
	}
	d := &ev.Payload.CustomDetails
	d.Runbook = title
	for i, step := range rb.Steps {
		if i == notify.MaxSteps {
			break
		}
		d.RunbookSteps = append(d.RunbookSteps, truncate(step, maxStep))
	}
}

// label is the primary alert's label k, else the group's.
func label(primary, group map[string]string, k string) string {
	if v := primary[k]; v != "" {
		return v
	}
	return group[k]
}

// truncate shortens s to n characters, ending with an ellipsis when cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// response is the Events API's answer, success or not.
type response struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key"`
	Errors   []string `json:"errors"`
}

func (c *Channel) post(ctx context.Context, ev event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return notify.Permanent(fmt.Errorf("pagerduty: encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(fmt.Errorf("pagerduty: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Klaxon")
	op := "pagerduty " + ev.EventAction
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the operator's; keep errors short
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	raw := notify.ReadBody(resp)
	// PagerDuty does not echo the routing key, but an error is logged and
	// stored: make sure.
	raw = bytes.ReplaceAll(raw, []byte(c.routingKey), []byte("<redacted>"))
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout {
		// PagerDuty says what is wrong with the event in "errors".
		var r response
		if json.Unmarshal(raw, &r) == nil && (r.Message != "" || len(r.Errors) > 0) {
			msg := r.Message
			if len(r.Errors) > 0 {
				msg += ": " + strings.Join(r.Errors, "; ")
			}
			return notify.Permanent(fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, msg))
		}
	}
	return notify.StatusError(op, resp, raw)
}
