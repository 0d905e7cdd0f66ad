package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/klaxon-oss/klaxon"
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
const maxListLimit = 1000

// listAlerts: ?state=firing,acknowledged (or open, all), ?limit=, ?before=.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		writeError(w, err)
		return
	}
	alerts, err := s.Alerts.Alerts(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := AlertList{Alerts: make([]Alert, len(alerts))}
	for i, a := range alerts {
		out.Alerts[i] = s.view(a)
	}
	if len(alerts) == f.Limit {
		out.Next = alerts[len(alerts)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

func parseFilter(r *http.Request) (klaxon.AlertFilter, error) {
	q := r.URL.Query()
	f := klaxon.AlertFilter{Limit: 100}
	for _, st := range strings.Split(q.Get("state"), ",") {
		switch st = strings.TrimSpace(st); st {
		case "", "all":
		case "open":
			f.States = append(f.States, klaxon.StateFiring, klaxon.StateAcknowledged)
		case string(klaxon.StateFiring), string(klaxon.StateAcknowledged), string(klaxon.StateResolved):
			f.States = append(f.States, klaxon.State(st))
		default:
			return f, klaxon.Errorf(klaxon.EINVALID, "state: got %q, want firing, acknowledged, resolved, open or all", st)
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return f, klaxon.Errorf(klaxon.EINVALID, "limit: got %q, want a number from 1 to %d", v, maxListLimit)
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, klaxon.Errorf(klaxon.EINVALID, "before: got %q, want an alert ID", v)
		}
		f.Before = n
	}
	return f, nil
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
