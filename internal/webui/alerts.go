package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/auth"
)

func (u *UI) alertRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /alerts", u.need(klaxon.RoleViewer, u.alerts))
	mux.HandleFunc("GET /alerts/{id}", u.need(klaxon.RoleViewer, u.alert))
	mux.HandleFunc("POST /alerts/{id}/ack", u.need(klaxon.RoleResponder, u.changeAlert("Acknowledged alert %d.", u.Alerts.Ack)))
	mux.HandleFunc("POST /alerts/{id}/unack", u.need(klaxon.RoleResponder, u.changeAlert("Unacknowledged alert %d: it is firing again.", u.Alerts.Unack)))
	mux.HandleFunc("POST /alerts/{id}/resolve", u.need(klaxon.RoleResponder, u.changeAlert("Resolved alert %d.", u.Alerts.Resolve)))
	mux.HandleFunc("POST /alerts/{id}/declare", u.need(klaxon.RoleResponder, u.declareFromAlert))
}

// alertPageSize is how many alerts one page of the list shows.
const alertPageSize = 50

// sinceChoice is a time range of the alert list's filter.
type sinceChoice struct {
	Value string
	Label string
	Span  time.Duration // 0: all time
}

var sinceChoices = []sinceChoice{
	{"1h", "Last hour", time.Hour},
	{"24h", "Last 24 hours", 24 * time.Hour},
	{"7d", "Last 7 days", 7 * 24 * time.Hour},
	{"30d", "Last 30 days", 30 * 24 * time.Hour},
	{"all", "All time", 0},
}

// alertStates are the alert list's state choices; "" is every state.
var alertStates = []string{"open", "firing", "acknowledged", "resolved"}

// alertQuery is the alert list's filter form, as submitted.
type alertQuery struct {
	State    string
	Severity string
	Match    string // Prometheus label matchers, e.g. {namespace="prod"}
	Q        string // free text
	Since    string
	Before   int64 // keyset: only alerts older (lower ID) than this
}

// values is q as a query string's values, empty fields left out.
func (q alertQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"state": q.State, "severity": q.Severity, "match": q.Match, "q": q.Q, "since": q.Since} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Before != 0 {
		v.Set("before", strconv.FormatInt(q.Before, 10))
	}
	return v
}

// alertsData is the alert list's content.
type alertsData struct {
	Query   alertQuery
	States  []string
	Levels  []string // severity names, most severe first
	Ranges  []sinceChoice
	Table   alertTable
	Older   string // the next page's URL; "" on the last page
	Newest  string // the first page's URL, when this is not it
	Invalid bool   // the filter was refused; nothing is listed
	// Partial says the search stopped reading before it filled the page:
	// older matches may follow.
	Partial bool
}

func (u *UI) alerts(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	names := u.severityNames()
	q, search, err := u.parseAlertQuery(r.URL.Query(), names)
	d := alertsData{Query: q, States: alertStates, Levels: names, Ranges: sinceChoices}
	v := view{Title: "Alerts", Nav: "alerts", User: p, Data: &d}
	if err != nil {
		if klaxon.ErrorCode(err) != klaxon.EINVALID {
			u.fail(w, r, p, err)
			return
		}
		d.Invalid, v.Error = true, klaxon.ErrorMessage(err)
		u.render(w, r, http.StatusBadRequest, "alerts.html", v)
		return
	}
	var found alerting.Page
	if u.Alerts != nil {
		search.Limit = alertPageSize + 1 // one more says whether there is an older page
		if found, err = u.Alerts.Search(r.Context(), search); err != nil {
			u.fail(w, r, p, err)
			return
		}
	}
	list, next := found.Alerts, int64(0)
	switch {
	case len(list) > alertPageSize:
		list = list[:alertPageSize]
		next = list[len(list)-1].ID
	case found.Truncated:
		// The search read its fill of alerts without filling the page;
		// the next page carries on where it stopped.
		next, d.Partial = found.Next, true
	}
	if next != 0 {
		older := q
		older.Before = next
		d.Older = "/alerts?" + older.values().Encode()
	}
	if q.Before != 0 {
		newest := q
		newest.Before = 0
		d.Newest = "/alerts?" + newest.values().Encode()
	}
	d.Table = newAlertTable(p, u.zone(p), r.URL.RequestURI(), list)
	// Only the first page follows changes: an older page would shift
	// under the reader as new alerts arrive.
	v.Live = q.Before == 0
	u.render(w, r, http.StatusOK, "alerts.html", v)
}

// severityNames are the alert levels' names, most severe first.
func (u *UI) severityNames() []string {
	if u.Alerts == nil {
		return klaxon.DefaultSeverityPolicy().Names
	}
	return u.Alerts.Severity().Names
}

// parseAlertQuery reads the alert list's filter form into a search; a
// value it cannot use is an EINVALID error naming the field.
func (u *UI) parseAlertQuery(v url.Values, levelNames []string) (alertQuery, alerting.Query, error) {
	q := alertQuery{
		State: v.Get("state"), Severity: v.Get("severity"),
		Match: strings.TrimSpace(v.Get("match")), Q: strings.TrimSpace(v.Get("q")), Since: v.Get("since"),
	}
	var s alerting.Query
	switch q.State {
	case "", "all":
		q.State = ""
	case "open":
		s.States = []klaxon.State{klaxon.StateFiring, klaxon.StateAcknowledged}
	case string(klaxon.StateFiring), string(klaxon.StateAcknowledged), string(klaxon.StateResolved):
		s.States = []klaxon.State{klaxon.State(q.State)}
	default:
		return q, s, klaxon.Errorf(klaxon.EINVALID, "State: %q is not one of open, firing, acknowledged, resolved.", q.State)
	}
	if q.Severity != "" {
		found := false
		for i, n := range levelNames {
			if strings.EqualFold(n, q.Severity) {
				s.Levels, q.Severity, found = []klaxon.Level{klaxon.Level(i)}, n, true
			}
		}
		if !found {
			return q, s, klaxon.Errorf(klaxon.EINVALID, "Severity: %q is not one of %s.", q.Severity, strings.Join(levelNames, ", "))
		}
	}
	if q.Match != "" {
		ms, err := labels.ParseMatchers(q.Match)
		if err != nil {
			return q, s, klaxon.Errorf(klaxon.EINVALID, "Labels: %s. Write matchers like {namespace=\"prod\", alertname=~\"Kube.*\"}.", err)
		}
		s.Matchers = ms
	}
	if len(q.Q) > 200 {
		return q, s, klaxon.Errorf(klaxon.EINVALID, "Search: at most 200 characters, please.")
	}
	s.Search = q.Q
	switch q.Since {
	case "", "all":
		q.Since = ""
	default:
		found := false
		for _, c := range sinceChoices {
			if c.Value == q.Since && c.Span > 0 {
				s.Since, found = u.Now().Add(-c.Span), true
			}
		}
		if !found {
			return q, s, klaxon.Errorf(klaxon.EINVALID, "Time range: %q is not one of 1h, 24h, 7d, 30d, all.", q.Since)
		}
	}
	if b := v.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			return q, s, klaxon.Errorf(klaxon.EINVALID, "before: got %q, want an alert ID.", b)
		}
		q.Before, s.Before = n, n
	}
	return q, s, nil
}

// alertID reads the {id} of an alert's path.
func alertID(r *http.Request) (int64, error) {
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, klaxon.Errorf(klaxon.ENOTFOUND, "There is no alert %q: alert IDs are numbers.", s)
	}
	return id, nil
}

type alertChange func(ctx context.Context, id int64, actor string) (*klaxon.Alert, error)

// changeAlert is an alert button's handler: it makes the change as the
// signed-in person and goes back to the form's next page (the alert's
// page by default) saying what it did (flash, with the alert's ID).
func (u *UI) changeAlert(flash string, change alertChange) page {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		id, err := alertID(r)
		if err != nil {
			u.fail(w, r, p, err)
			return
		}
		next := r.PostFormValue("next")
		if !localPath(next) {
			next = fmt.Sprintf("/alerts/%d", id)
		}
		if u.Alerts == nil {
			u.fail(w, r, p, klaxon.Errorf(klaxon.ENOTFOUND, "Alerts are not available."))
			return
		}
		if _, err := change(r.Context(), id, p.Name); err != nil {
			u.back(w, r, p, next, err)
			return
		}
		u.done(w, r, next, fmt.Sprintf(flash, id))
	}
}
