package chattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// PagerDutyRoutingKey is a well-formed integration key (32 characters) the
// fake PagerDuty accepts.
const PagerDutyRoutingKey = "R0UT1NGKEY0123456789ABCDEFGHIJKL"

// PagerDutyEvent is one event the fake PagerDuty accepted.
type PagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"`
	DedupKey    string            `json:"dedup_key"`
	Payload     *PagerDutyPayload `json:"payload"`
	Images      []json.RawMessage `json:"images"`
	Links       []PagerDutyLink   `json:"links"`
	Client      string            `json:"client"`
	ClientURL   string            `json:"client_url"`
	Body        []byte            `json:"-"` // as sent
}

// PagerDutyPayload is a trigger event's payload.
type PagerDutyPayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group"`
	Class         string          `json:"class"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

// PagerDutyLink is a link attached to an event.
type PagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Incident states the fake tracks per dedup key.
const (
	PagerDutyTriggered    = "triggered"
	PagerDutyAcknowledged = "acknowledged"
	PagerDutyResolved     = "resolved"
)

// PagerDuty is a fake PagerDuty Events API v2 endpoint.
type PagerDuty struct {
	URL string // the enqueue endpoint

	mu        sync.Mutex
	events    []PagerDutyEvent
	requests  int
	incidents map[string]string // dedup key → state
	fail      failures
}

// NewPagerDuty starts a fake Events API v2, closed when t ends.
func NewPagerDuty(t testing.TB) *PagerDuty {
	t.Helper()
	p := &PagerDuty{incidents: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL + "/v2/enqueue"
	return p
}

// Fail makes the next n requests answer status (429 and 5xx in PagerDuty's
// own shape), with a Retry-After header when retryAfter is not empty.
func (p *PagerDuty) Fail(n, status int, retryAfter string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail.set(n, status, retryAfter)
}

// Requests counts every request received, refused ones included.
func (p *PagerDuty) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Events returns the accepted events, in order.
func (p *PagerDuty) Events() []PagerDutyEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PagerDutyEvent(nil), p.events...)
}

// Incident is the state of the incident a dedup key names: triggered,
// acknowledged, resolved, or "" when no trigger ever opened one.
func (p *PagerDuty) Incident(dedupKey string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.incidents[dedupKey]
}

func (p *PagerDuty) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if status := p.fail.take(w); status != 0 {
		switch {
		case status == http.StatusTooManyRequests:
			pagerDutyAnswer(w, status, map[string]any{"status": "throttle event", "message": "Requests for this service are arriving too quickly.  Please retry later."})
		case status >= 500:
			w.WriteHeader(status) // PagerDuty's 5xx carry no useful body
		default:
			pagerDutyInvalid(w, status, "injected failure")
		}
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		http.NotFound(w, r)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		pagerDutyInvalid(w, http.StatusBadRequest, "unreadable body")
		return
	}
	if len(raw) > 512*1024 {
		pagerDutyInvalid(w, http.StatusBadRequest, "Event object is too large (the limit is 512 KB)")
		return
	}
	var ev PagerDutyEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		pagerDutyAnswer(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{"Malformed JSON: " + err.Error()}})
		return
	}
	if problems := pagerDutyCheck(&ev); len(problems) > 0 {
		pagerDutyAnswer(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": problems})
		return
	}
	ev.Body = raw
	if ev.DedupKey == "" {
		ev.DedupKey = fmt.Sprintf("%032x", len(p.events)+1)
	}
	p.events = append(p.events, ev)
	p.apply(ev)
	pagerDutyAnswer(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

// apply moves the dedup key's incident the way PagerDuty does: a trigger
// opens one (or adds to the open one), acknowledge and resolve act on an
// open one and are ignored otherwise.
func (p *PagerDuty) apply(ev PagerDutyEvent) {
	state := p.incidents[ev.DedupKey]
	open := state == PagerDutyTriggered || state == PagerDutyAcknowledged
	switch ev.EventAction {
	case "trigger":
		if !open {
			p.incidents[ev.DedupKey] = PagerDutyTriggered
		}
	case "acknowledge":
		if open {
			p.incidents[ev.DedupKey] = PagerDutyAcknowledged
		}
	case "resolve":
		if open {
			p.incidents[ev.DedupKey] = PagerDutyResolved
		}
	}
}

// pagerDutyCheck validates an event like the Events API v2 does.
func pagerDutyCheck(ev *PagerDutyEvent) []string {
	var problems []string
	switch {
	case ev.RoutingKey == "":
		problems = append(problems, "'routing_key' is missing or blank")
	case len(ev.RoutingKey) != 32:
		problems = append(problems, "Length of 'routing_key' is incorrect (should be 32 characters)")
	}
	if len(ev.DedupKey) > 255 {
		problems = append(problems, "Length of 'dedup_key' is too long (maximum is 255 characters)")
	}
	switch ev.EventAction {
	case "trigger":
		problems = append(problems, pagerDutyCheckPayload(ev.Payload)...)
	case "acknowledge", "resolve":
		if ev.DedupKey == "" {
			problems = append(problems, "'dedup_key' is required for event_action '"+ev.EventAction+"'")
		}
	case "":
		problems = append(problems, "'event_action' is missing or blank")
	default:
		problems = append(problems, "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
	}
	for _, l := range ev.Links {
		if l.Href == "" {
			problems = append(problems, "'links' entries must have an 'href'")
		}
	}
	return problems
}

func pagerDutyCheckPayload(pl *PagerDutyPayload) []string {
	if pl == nil {
		return []string{"'payload' is missing or blank"}
	}
	var problems []string
	if strings.TrimSpace(pl.Summary) == "" {
		problems = append(problems, "'payload.summary' is missing or blank")
	} else if n := len([]rune(pl.Summary)); n > 1024 {
		problems = append(problems, fmt.Sprintf("Length of 'payload.summary' is too long (%d; maximum is 1024 characters)", n))
	}
	if strings.TrimSpace(pl.Source) == "" {
		problems = append(problems, "'payload.source' is missing or blank")
	}
	switch pl.Severity {
	case "critical", "error", "warning", "info":
	default:
		problems = append(problems, "'payload.severity' is invalid (must be one of: critical, error, warning, info)")
	}
	if pl.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339Nano, pl.Timestamp); err != nil {
			problems = append(problems, "'payload.timestamp' is invalid (must be an ISO 8601 date-time)")
		}
	}
	if len(pl.CustomDetails) > 0 && pl.CustomDetails[0] != '{' && pl.CustomDetails[0] != '"' {
		problems = append(problems, "'payload.custom_details' must be an object")
	}
	return problems
}

func pagerDutyInvalid(w http.ResponseWriter, status int, msg string) {
	pagerDutyAnswer(w, status, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{msg}})
}

func pagerDutyAnswer(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
