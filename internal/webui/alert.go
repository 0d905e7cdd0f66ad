package webui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/incident"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

// alertData is an alert's page content.
type alertData struct {
	Alert       *klaxon.Alert
	Details     string // the source's custom details, indented JSON
	Events      []klaxon.Event
	Messages    []klaxon.Message
	Diagnostics []*klaxon.Diagnostics
	// Runbook is the runbook that covers the alert, or nil; Steps are its
	// diagnose steps with the alert's labels filled in.
	Runbook *runbook.Runbook
	Steps   []string
	Buttons alertButtons
	// CanDeclare offers to declare an incident from the alert.
	CanDeclare bool
}

func (u *UI) alert(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := alertID(r)
	if err == nil && u.Alerts == nil {
		err = klaxon.Errorf(klaxon.ENOTFOUND, "Alerts are not available.")
	}
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	ctx := r.Context()
	a, events, err := u.Alerts.Alert(ctx, id)
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		err = klaxon.Errorf(klaxon.ENOTFOUND, "There is no alert %d.", id)
	}
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	d := alertData{Alert: a, Events: events, Buttons: alertButtons{Alert: a, CSRF: p.CSRF, Next: r.URL.Path}}
	if d.Messages, err = u.Alerts.Messages(ctx, id); err != nil {
		u.fail(w, r, p, err)
		return
	}
	if d.Diagnostics, err = u.Alerts.Diagnostics(ctx, id); err != nil {
		u.fail(w, r, p, err)
		return
	}
	if len(a.Details) > 0 {
		var b bytes.Buffer
		if json.Indent(&b, a.Details, "", "  ") == nil {
			d.Details = b.String()
		} else {
			d.Details = string(a.Details)
		}
	}
	if u.Runbooks != nil {
		if d.Runbook = u.Runbooks.Current().Match(a.Labels); d.Runbook != nil {
			d.Steps = notify.LinkRunbook(d.Runbook, a, "", len(d.Runbook.Steps)).Steps
		}
	}
	d.CanDeclare = u.Incidents != nil && a.State.Open() && p.Role.Allows(klaxon.RoleResponder)
	title := fmt.Sprintf("Alert %d", a.ID)
	if a.Name() != "" {
		title = fmt.Sprintf("%s · alert %d", a.Name(), a.ID)
	}
	u.render(w, r, http.StatusOK, "alert.html", view{Title: title, Nav: "alerts", User: p, Live: true, Data: d})
}

// declareFromAlert promotes an alert to an incident: its service, summary
// and severity come from the alert, the person declaring commands it.
func (u *UI) declareFromAlert(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := alertID(r)
	if err == nil && u.Incidents == nil {
		err = klaxon.Errorf(klaxon.ENOTFOUND, "Incidents are not available.")
	}
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	inc, err := u.Incidents.Declare(r.Context(), incident.Declaration{AlertID: id, Reporter: p.Name})
	if err != nil {
		u.back(w, r, p, fmt.Sprintf("/alerts/%d", id), err)
		return
	}
	u.done(w, r, fmt.Sprintf("/incidents/%d", inc.ID), fmt.Sprintf("Declared incident %d: %s. You are its commander.", inc.ID, inc.Title))
}
