package webui

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

func (u *UI) nowRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", u.need(klaxon.RoleViewer, u.now))
}

// nowLimit bounds the alerts of each state the Now page shows; in a storm
// the rest are a click away on the alerts list.
const nowLimit = 300

// alertTable is a table of alerts and their buttons, as Now and the
// alerts list show them (templates/alerttable.html).
type alertTable struct {
	Alerts []*klaxon.Alert
	Act    bool   // the viewer may ack and resolve
	CSRF   string // for the buttons' forms
	Next   string // where the buttons' forms come back to
	Zone   *time.Location
}

// newAlertTable is a table for p, whose buttons come back to next.
func newAlertTable(p *auth.Principal, zone *time.Location, next string, alerts []*klaxon.Alert) alertTable {
	return alertTable{Alerts: alerts, Act: p.Role.Allows(klaxon.RoleResponder), CSRF: p.CSRF, Next: next, Zone: zone}
}

// severityGroup is the firing alerts of one level.
type severityGroup struct {
	Level klaxon.Level
	Name  string
	Table alertTable
}

// nowData is the Now page's content.
type nowData struct {
	Firing []severityGroup // most severe first
	Acked  alertTable
	// More names the states with more alerts than shown.
	More      []klaxon.State
	Incidents []openIncident
	// OnCall is nil when on-call is not set up; OnCallNote says why.
	OnCall     []oncall.OnCall
	OnCallNote string
}

// openIncident is an open incident and its severity's name.
type openIncident struct {
	*klaxon.Incident
	LevelName string
}

func (u *UI) now(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ctx := r.Context()
	zone := u.zone(p)
	var d nowData
	if u.Alerts != nil {
		firing, err := u.Alerts.Alerts(ctx, klaxon.AlertFilter{States: []klaxon.State{klaxon.StateFiring}, Limit: nowLimit})
		if err != nil {
			u.fail(w, r, p, err)
			return
		}
		acked, err := u.Alerts.Alerts(ctx, klaxon.AlertFilter{States: []klaxon.State{klaxon.StateAcknowledged}, Limit: nowLimit})
		if err != nil {
			u.fail(w, r, p, err)
			return
		}
		// Most severe first; newest first within a level, as listed.
		slices.SortStableFunc(firing, byLevel)
		slices.SortStableFunc(acked, byLevel)
		for _, a := range firing {
			if n := len(d.Firing); n == 0 || d.Firing[n-1].Level != a.Level {
				d.Firing = append(d.Firing, severityGroup{Level: a.Level, Name: u.severityName(a.Level), Table: newAlertTable(p, zone, "/", nil)})
			}
			g := &d.Firing[len(d.Firing)-1]
			g.Table.Alerts = append(g.Table.Alerts, a)
		}
		d.Acked = newAlertTable(p, zone, "/", acked)
		if len(firing) == nowLimit {
			d.More = append(d.More, klaxon.StateFiring)
		}
		if len(acked) == nowLimit {
			d.More = append(d.More, klaxon.StateAcknowledged)
		}
	}
	if u.Incidents != nil {
		open, err := u.Incidents.Incidents(ctx, klaxon.IncidentFilter{Open: true})
		if err != nil {
			u.fail(w, r, p, err)
			return
		}
		for _, inc := range open {
			d.Incidents = append(d.Incidents, openIncident{Incident: inc, LevelName: u.Incidents.LevelName(inc.Level)})
		}
	}
	if err := u.onCallNow(r, &d); err != nil {
		u.fail(w, r, p, err)
		return
	}
	u.render(w, r, http.StatusOK, "now.html", view{Title: "Now", Nav: "now", User: p, Live: true, Zone: zone, Data: d})
}

// onCallNow fills who is on call for every schedule, or says why nobody
// is shown.
func (u *UI) onCallNow(r *http.Request, d *nowData) error {
	if u.OnCall == nil {
		d.OnCallNote = "On-call schedules are not set up: add users and schedules to Klaxon's configuration."
		return nil
	}
	if len(u.OnCall.Directory().Schedules) == 0 {
		d.OnCallNote = "No on-call schedules are configured."
		return nil
	}
	var err error
	d.OnCall, err = u.OnCall.OnCall(r.Context(), "", u.Now())
	return err
}

func byLevel(a, b *klaxon.Alert) int { return cmp.Compare(a.Level, b.Level) }
