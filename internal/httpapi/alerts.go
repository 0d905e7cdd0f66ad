package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
)

// Alert is an alert as the API shows it: the stored alert plus its
// severity's display name.
type Alert struct {
	*klaxon.Alert
	Priority string `json:"priority"`
}

// AlertList is the answer to GET /api/v1/alerts.
type AlertList struct {
	Alerts []Alert `json:"alerts"`
	// Next is the "before" value for the next page, 0 on the last page.
	Next int64 `json:"next,omitempty"`
	// Truncated says the server stopped reading alerts before it filled
	// the page (label matchers other than = are checked alert by alert,
	// a bounded number per request); there may be more from Next on.
	Truncated bool `json:"truncated,omitempty"`
}

// AlertDetail is the answer to GET /api/v1/alerts/{id}.
type AlertDetail struct {
	Alert  Alert          `json:"alert"`
	Events []klaxon.Event `json:"events"`
	// Messages are what the alert's groups produced on each channel.
	Messages []klaxon.Message `json:"messages"`
	// Runbook is the runbook matched to the alert, its steps filled.
	Runbook *RunbookMatch `json:"runbook,omitempty"`
	// Diagnostics are its runbook's diagnostics runs, newest first.
	Diagnostics []*klaxon.Diagnostics `json:"diagnostics"`
}

func (s *Server) view(a *klaxon.Alert) Alert {
	return Alert{Alert: a, Priority: s.severity.Name(a.Level)}
}

// maxListLimit bounds one page.
const maxListLimit = alerting.MaxSearchLimit

// maxSearchLen bounds ?q=: every alert a search reads is compared with it.
const maxSearchLen = 200

// listAlerts answers GET /api/v1/alerts, newest first:
//
//	state=firing,acknowledged   or open, all (default)
//	level=P0,P1                 severity names of the policy
//	match={namespace="prod",alertname=~"Kube.*",pod!=""}
//	q=disk                      in the summary or any label value
//	since=24h, until=2026-11-21T00:00:00Z
//	                            on first seen: RFC 3339, or a duration
//	                            (24h, 7d) meaning that long ago
//	before=1234, limit=100      keyset paging: before is the last "next"
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	q, err := s.parseAlertQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	page, err := s.Alerts.Search(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := AlertList{Alerts: make([]Alert, len(page.Alerts)), Next: page.Next, Truncated: page.Truncated}
	for i, a := range page.Alerts {
		out.Alerts[i] = s.view(a)
	}
	writeJSON(w, http.StatusOK, out)
}

// parseAlertQuery reads listAlerts' parameters; a bad one is an EINVALID
// error that names it.
func (s *Server) parseAlertQuery(v url.Values) (alerting.Query, error) {
	q := alerting.Query{Limit: 100, Search: v.Get("q")}
	for _, st := range strings.Split(v.Get("state"), ",") {
		switch st = strings.TrimSpace(st); st {
		case "", "all":
		case "open":
			q.States = append(q.States, klaxon.StateFiring, klaxon.StateAcknowledged)
		case string(klaxon.StateFiring), string(klaxon.StateAcknowledged), string(klaxon.StateResolved):
			q.States = append(q.States, klaxon.State(st))
		default:
			return q, klaxon.Errorf(klaxon.EINVALID, "state: got %q, want firing, acknowledged, resolved, open or all", st)
		}
	}
	if v.Get("level") != "" {
		for _, name := range strings.Split(v.Get("level"), ",") {
			l, ok := s.levelNamed(strings.TrimSpace(name))
			if !ok {
				return q, klaxon.Errorf(klaxon.EINVALID, "level: got %q, want one of %s", name, strings.Join(s.severity.Names, ", "))
			}
			q.Levels = append(q.Levels, l)
		}
	}
	if m := v.Get("match"); m != "" {
		ms, err := labels.ParseMatchers(m)
		if err != nil {
			return q, klaxon.Errorf(klaxon.EINVALID, `match: %v; want label matchers like {namespace="prod",pod=~"api-.*"}`, err)
		}
		q.Matchers = ms
	}
	if len(q.Search) > maxSearchLen {
		return q, klaxon.Errorf(klaxon.EINVALID, "q: %d characters, want at most %d", len(q.Search), maxSearchLen)
	}
	var err error
	if q.Since, err = s.parseTime("since", v.Get("since")); err != nil {
		return q, err
	}
	if q.Until, err = s.parseTime("until", v.Get("until")); err != nil {
		return q, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return q, klaxon.Errorf(klaxon.EINVALID, "until: %s is not after since, %s", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	if lim := v.Get("limit"); lim != "" {
		n, err := strconv.Atoi(lim)
		if err != nil || n < 1 || n > maxListLimit {
			return q, klaxon.Errorf(klaxon.EINVALID, "limit: got %q, want a number from 1 to %d", lim, maxListLimit)
		}
		q.Limit = n
	}
	if b := v.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			return q, klaxon.Errorf(klaxon.EINVALID, "before: got %q, want an alert ID", b)
		}
		q.Before = n
	}
	return q, nil
}

// levelNamed finds a level by its name in the severity policy (P0, SEV1),
// case-insensitively.
func (s *Server) levelNamed(name string) (klaxon.Level, bool) {
	for i, n := range s.severity.Names {
		if strings.EqualFold(n, name) {
			return klaxon.Level(i), true
		}
	}
	return 0, false
}

// maxDays bounds a duration in days well inside time.Duration's range.
const maxDays = 100 * 365

// parseTime reads a time parameter: RFC 3339, or a duration (Go's, or
// whole days like 7d) counted back from now. "" is the zero time.
func (s *Server) parseTime(param, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	var ago time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > maxDays {
			return time.Time{}, klaxon.Errorf(klaxon.EINVALID, "%s: got %q, want an RFC 3339 time or a duration like 24h or 7d", param, v)
		}
		ago = time.Duration(n) * 24 * time.Hour
	} else {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return time.Time{}, klaxon.Errorf(klaxon.EINVALID, "%s: got %q, want an RFC 3339 time or a duration like 24h or 7d", param, v)
		}
		ago = d
	}
	return s.Now().Add(-ago), nil
}

func alertID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, klaxon.Errorf(klaxon.EINVALID, "alert ID: got %q, want a positive number", v)
	}
	return id, nil
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	a, events, err := s.Alerts.Alert(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if events == nil {
		events = []klaxon.Event{}
	}
	msgs, err := s.Alerts.Messages(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if msgs == nil {
		msgs = []klaxon.Message{}
	}
	diags, err := s.Alerts.Diagnostics(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if diags == nil {
		diags = []*klaxon.Diagnostics{}
	}
	writeJSON(w, http.StatusOK, AlertDetail{Alert: s.view(a), Events: events, Messages: msgs, Runbook: s.runbookFor(a), Diagnostics: diags})
}

type alertChange func(ctx context.Context, id int64, actor string) (*klaxon.Alert, error)

func (s *Server) changeAlert(change alertChange) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := alertID(r)
		if err != nil {
			writeError(w, err)
			return
		}
		a, err := change(r.Context(), id, actor(r.Context()))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s.view(a))
	}
}
