// Package eventsv2 decodes PagerDuty Events API v2 requests, so anything that
// pages PagerDuty (Alertmanager's pagerduty_configs, Grafana, Zabbix, the
// go-pagerduty client) can send to Klaxon unchanged. Validation follows
// PagerDuty's documented rules and its error wording.
package eventsv2

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/ingest"
)

// Event is one Events API v2 request.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload"`
	Images      []Image  `json:"images"`
	Links       []Link   `json:"links"`
	Client      string   `json:"client"`
	ClientURL   string   `json:"client_url"`
}

// Payload is the alert itself (required for trigger).
type Payload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group"`
	Class         string          `json:"class"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

// Image is an image attached to the event.
type Image struct {
	Src  string `json:"src"`
	Href string `json:"href"`
	Alt  string `json:"alt"`
}

// Link is a link attached to the event.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// PagerDuty's documented limits.
const (
	maxSummary  = 1024
	maxDedupKey = 255
)

var severities = map[string]bool{"critical": true, "error": true, "warning": true, "info": true}

// Decode parses and validates a request body. A trigger without dedup_key
// gets a generated one, which the caller must return to the sender.
func Decode(body []byte) (*Event, klaxon.Signal, error) {
	var e Event
	if err := ingest.DecodeJSON(body, &e, false); err != nil {
		return nil, klaxon.Signal{}, err
	}
	var p ingest.Problems
	if strings.TrimSpace(e.RoutingKey) == "" {
		p.Addf("'routing_key' is missing or blank")
	}
	action := klaxon.Action(e.EventAction)
	switch action {
	case klaxon.ActionTrigger:
		validatePayload(e.Payload, &p)
	case klaxon.ActionAcknowledge, klaxon.ActionResolve:
		if strings.TrimSpace(e.DedupKey) == "" {
			p.Addf("'dedup_key' is missing or blank (required for %s)", e.EventAction)
		}
	case "":
		p.Addf("'event_action' is missing or blank")
	default:
		p.Addf("'event_action' must be one of trigger, acknowledge, resolve (got %q)", e.EventAction)
	}
	if len(e.DedupKey) > maxDedupKey {
		p.Addf("'dedup_key' is longer than %d characters", maxDedupKey)
	}
	if err := p.Err(); err != nil {
		return nil, klaxon.Signal{}, err
	}
	if strings.TrimSpace(e.DedupKey) == "" {
		e.DedupKey = newDedupKey()
	}
	return &e, e.signal(), nil
}

func validatePayload(pl *Payload, p *ingest.Problems) {
	if pl == nil {
		p.Addf("'payload' is missing (required for trigger)")
		return
	}
	if strings.TrimSpace(pl.Summary) == "" {
		p.Addf("'payload.summary' is missing or blank")
	}
	if strings.TrimSpace(pl.Source) == "" {
		p.Addf("'payload.source' is missing or blank")
	}
	if !severities[pl.Severity] {
		p.Addf("'payload.severity' must be one of critical, error, warning, info (got %q)", pl.Severity)
	}
	if pl.Timestamp != "" {
		if _, err := parseTimestamp(pl.Timestamp); err != nil {
			p.Addf("'payload.timestamp' is not an ISO 8601 time: %q", pl.Timestamp)
		}
	}
}

// signal maps the event onto Klaxon's alert: the standard fields become
// labels (class doubles as alertname, as Alertmanager sets it), the summary
// an annotation, custom_details is kept verbatim.
func (e *Event) signal() klaxon.Signal {
	sig := klaxon.Signal{Key: e.DedupKey, Action: klaxon.Action(e.EventAction), SourceURL: e.ClientURL}
	for _, l := range e.Links {
		sig.Links = append(sig.Links, klaxon.Link{Href: l.Href, Text: l.Text})
	}
	for _, img := range e.Images {
		href := img.Href
		if href == "" {
			href = img.Src
		}
		sig.Links = append(sig.Links, klaxon.Link{Href: href, Text: img.Alt})
	}
	pl := e.Payload
	if pl == nil {
		return sig
	}
	sig.Severity = pl.Severity
	sig.Summary = truncate(pl.Summary, maxSummary)
	sig.Labels = map[string]string{}
	for k, v := range map[string]string{"alertname": pl.Class, "class": pl.Class, "source": pl.Source,
		"component": pl.Component, "group": pl.Group, "severity": pl.Severity} {
		if v != "" {
			sig.Labels[k] = v
		}
	}
	sig.Annotations = map[string]string{"summary": sig.Summary}
	if e.Client != "" {
		sig.Annotations["client"] = e.Client
	}
	if len(pl.CustomDetails) > 0 && string(pl.CustomDetails) != "null" {
		sig.Details = storable(pl.CustomDetails)
	}
	if ts, err := parseTimestamp(pl.Timestamp); err == nil {
		sig.StartsAt = ts
	}
	return sig
}

// timestampLayouts are the ISO 8601 forms senders use: RFC 3339, and the
// offset without a colon that PagerDuty's own documentation shows.
var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"}

func parseTimestamp(s string) (time.Time, error) {
	var err error
	for _, layout := range timestampLayouts {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

// storable returns details as PostgreSQL's jsonb will take it: JSON with
// invalid UTF-8 or an unpaired surrogate escape (both refused there, both
// accepted by SQLite) is re-encoded, which turns them into U+FFFD. Anything
// else is kept byte for byte.
func storable(details json.RawMessage) json.RawMessage {
	if utf8.Valid(details) && !bytes.Contains(bytes.ToLower(details), []byte(`\ud`)) {
		return details
	}
	var v any
	if err := json.Unmarshal(details, &v); err != nil {
		return nil // cannot happen: Decode already parsed it
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence, as
// PagerDuty truncates long summaries rather than refusing them.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func newDedupKey() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
