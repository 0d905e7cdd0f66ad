package webui

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/incident"
)

const (
	// recentIncidents is how far back the list shows resolved incidents,
	// and resolvedListed how many of them at most.
	recentIncidents = 30 * 24 * time.Hour
	resolvedListed  = 50
	// openListed bounds the open incidents listed; more would be a
	// different problem than a long page.
	openListed = 200
	// alertsDescribed bounds the linked alerts an incident's page looks up
	// to show their names; the rest are listed by number.
	alertsDescribed = 20
)

var errNoIncidents = klaxon.Errorf(klaxon.ENOTFOUND, "incidents are not configured on this server")

func (u *UI) incidentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /incidents", u.need(klaxon.RoleViewer, u.incidentList))
	mux.HandleFunc("POST /incidents", u.need(klaxon.RoleResponder, u.declareIncident))
	mux.HandleFunc("GET /incidents/{id}", u.need(klaxon.RoleViewer, u.incidentPage))
	mux.HandleFunc("GET /incidents/{id}/postmortem", u.need(klaxon.RoleViewer, u.postmortemPage))
	mux.HandleFunc("GET /incidents/{id}/postmortem.md", u.need(klaxon.RoleViewer, u.postmortemMarkdown))
	for pattern, act := range incidentActions {
		mux.HandleFunc("POST /incidents/{id}/"+pattern, u.need(klaxon.RoleResponder, u.incidentAction(pattern, act)))
	}
}

// incidentRow is an incident as the list shows it.
type incidentRow struct {
	*klaxon.Incident
	LevelName string
}

// incidentListData is the incidents page: open ones first, then the
// recently resolved, and the declare form.
type incidentListData struct {
	Enabled  bool
	Open     []incidentRow
	Resolved []incidentRow
	Levels   []string
	typed    typedForm
}

// Typed is what was typed into form's field before it failed.
func (d *incidentListData) Typed(form, field string) string { return d.typed.value(form, field) }

func (u *UI) incidentList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	u.showIncidentList(w, r, p, http.StatusOK, "", typedForm{})
}

// showIncidentList renders the list; problem and typed come from a
// declaration that failed.
func (u *UI) showIncidentList(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, problem string, typed typedForm) {
	data := &incidentListData{typed: typed}
	if u.Incidents != nil {
		data.Enabled = true
		ctx := r.Context()
		open, err := u.Incidents.Incidents(ctx, klaxon.IncidentFilter{Open: true, Limit: openListed})
		if err != nil {
			u.fail(w, r, p, err)
			return
		}
		recent, err := u.Incidents.Incidents(ctx, klaxon.IncidentFilter{Since: u.Now().Add(-recentIncidents), Limit: resolvedListed + len(open)})
		if err != nil {
			u.fail(w, r, p, err)
			return
		}
		for _, inc := range open {
			data.Open = append(data.Open, incidentRow{inc, u.Incidents.LevelName(inc.Level)})
		}
		for _, inc := range recent {
			if !inc.Open() && len(data.Resolved) < resolvedListed {
				data.Resolved = append(data.Resolved, incidentRow{inc, u.Incidents.LevelName(inc.Level)})
			}
		}
		data.Levels = u.levelNames()
	}
	u.render(w, r, status, "incidents.html", view{Title: "Incidents", Nav: "incidents", User: p, Live: true, Error: problem, Data: data})
}

// levelNames are the incident severities, most severe first. The service
// reads "1", "2"… as the ladder's levels and nothing past its end.
func (u *UI) levelNames() []string {
	var names []string
	for n := 1; ; n++ {
		l, err := u.Incidents.ParseLevel(strconv.Itoa(n))
		if err != nil {
			break
		}
		names = append(names, u.Incidents.LevelName(l))
	}
	return names
}

// declareIncident opens an incident from the list's form: service,
// summary, and a severity chosen or suggested from the impact typed.
func (u *UI) declareIncident(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if u.Incidents == nil {
		u.fail(w, r, p, errNoIncidents)
		return
	}
	d, err := u.declaration(r, p)
	var inc *klaxon.Incident
	if err == nil {
		inc, err = u.Incidents.Declare(r.Context(), d)
	}
	if err != nil {
		if status, ok := formProblem(err); ok {
			u.showIncidentList(w, r, p, status, klaxon.ErrorMessage(err), typedForm{"declare", r.PostForm})
			return
		}
		u.fail(w, r, p, err)
		return
	}
	u.done(w, r, incidentPath(inc.ID), fmt.Sprintf("Declared incident %d at %s. You are its commander until you hand it over.", inc.ID, u.Incidents.LevelName(inc.Level)))
}

func (u *UI) declaration(r *http.Request, p *auth.Principal) (incident.Declaration, error) {
	d := incident.Declaration{
		Service:  r.PostFormValue("service"),
		Summary:  r.PostFormValue("summary"),
		Reporter: p.Name,
	}
	if sev := r.PostFormValue("severity"); sev != "" {
		l, err := u.Incidents.ParseLevel(sev)
		if err != nil {
			return d, err
		}
		d.Level = &l
		return d, nil
	}
	// No severity chosen: the helper suggests one from the impact.
	a := incident.Assessment{Unreachable: r.PostFormValue("unreachable") != "", Failing: -1}
	if v := strings.TrimSpace(r.PostFormValue("failing")); v != "" {
		f, err := incident.ParseFailing(v)
		if err != nil {
			return d, err
		}
		a.Failing = f
	}
	if a.Unreachable || a.Failing >= 0 {
		d.Assessment = &a
	}
	return d, nil
}

// linkedAlert is an alert linked to an incident; Alert is nil when it
// was not looked up or is gone.
type linkedAlert struct {
	ID    int64
	Alert *klaxon.Alert
}

// incidentData is an incident's page.
type incidentData struct {
	Incident  *klaxon.Incident
	LevelName string
	Timeline  []klaxon.TimelineEntry
	Actions   []klaxon.ActionItem
	Alerts    []linkedAlert
	Levels    []string
	Statuses  []klaxon.IncidentStatus // the open ones a form may set
	People    []string                // configured users, offered for roles and owners
	Now       time.Time
	typed     typedForm
}

// Typed is what was typed into form's field before it failed.
func (d *incidentData) Typed(form, field string) string { return d.typed.value(form, field) }

// UpdateOverdue reports whether the next status update is late.
func (d *incidentData) UpdateOverdue() bool {
	return !d.Incident.NextUpdateAt.IsZero() && d.Incident.NextUpdateAt.Before(d.Now)
}

// ChecklistDone counts the ticked checklist items.
func (d *incidentData) ChecklistDone() int {
	n := 0
	for _, c := range d.Incident.Checklist {
		if c.Done() {
			n++
		}
	}
	return n
}

// checklistRow is a checklist item with the number its form posts.
type checklistRow struct {
	N    int
	Item klaxon.ChecklistItem
}

// Checklist numbers the checklist items from 1, as the service counts them.
func (d *incidentData) Checklist() []checklistRow {
	rows := make([]checklistRow, len(d.Incident.Checklist))
	for i, c := range d.Incident.Checklist {
		rows[i] = checklistRow{N: i + 1, Item: c}
	}
	return rows
}

// OpenActions counts the action items not done yet.
func (d *incidentData) OpenActions() int {
	n := 0
	for _, a := range d.Actions {
		if a.DoneAt.IsZero() {
			n++
		}
	}
	return n
}

// KindName is a timeline kind for people: "alert linked".
func (d *incidentData) KindName(k klaxon.TimelineKind) string {
	return strings.ReplaceAll(string(k), "_", " ")
}

// RoleName is an incident role for people: "comms lead".
func (d *incidentData) RoleName(r incident.Role) string {
	return strings.ReplaceAll(string(r), "_", " ")
}

// Roles are the roles the role form offers.
func (d *incidentData) Roles() []incident.Role {
	return []incident.Role{incident.RoleCommander, incident.RoleComms, incident.RoleResponder}
}

func (u *UI) incidentPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if u.Incidents == nil {
		u.render(w, r, http.StatusOK, "incidents.html", view{Title: "Incidents", Nav: "incidents", User: p, Data: &incidentListData{}})
		return
	}
	id, err := incidentID(r)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	u.showIncident(w, r, p, id, http.StatusOK, "", typedForm{})
}

// showIncident renders incident id; problem and typed come from a form
// that failed.
func (u *UI) showIncident(w http.ResponseWriter, r *http.Request, p *auth.Principal, id int64, status int, problem string, typed typedForm) {
	ctx := r.Context()
	inc, err := u.Incidents.Incident(ctx, id)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	timeline, err := u.Incidents.Timeline(ctx, id)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	actions, err := u.Incidents.Actions(ctx, klaxon.ActionFilter{IncidentID: id})
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	data := &incidentData{
		Incident:  inc,
		LevelName: u.Incidents.LevelName(inc.Level),
		Timeline:  timeline,
		Actions:   actions,
		Levels:    u.levelNames(),
		Statuses:  klaxon.IncidentStatuses[:len(klaxon.IncidentStatuses)-1],
		Now:       u.Now(),
		typed:     typed,
	}
	if u.OnCall != nil {
		data.People = slices.Sorted(maps.Keys(u.OnCall.Directory().Users))
	}
	for i, alertID := range inc.Alerts {
		la := linkedAlert{ID: alertID}
		if u.Alerts != nil && i < alertsDescribed {
			a, _, err := u.Alerts.Alert(ctx, alertID)
			switch klaxon.ErrorCode(err) {
			case "":
				la.Alert = a
			case klaxon.ENOTFOUND:
			default:
				u.Logger.Error("incident page: read linked alert", "incident", id, "alert", alertID, "err", err)
			}
		}
		data.Alerts = append(data.Alerts, la)
	}
	u.render(w, r, status, "incident.html", view{
		Title: fmt.Sprintf("#%d %s", inc.ID, inc.Title), Nav: "incidents", User: p, Live: true, Error: problem, Data: data,
	})
}

// incidentAct is one form of an incident's page: it changes incident id
// as actor and says what it did.
type incidentAct func(u *UI, r *http.Request, id int64, actor string) (flash string, err error)

// incidentActions are the incident page's forms by the path they post to
// under /incidents/{id}/; the path names the form for refilling it.
var incidentActions = map[string]incidentAct{
	"updates":               postUpdate,
	"status":                setStatus,
	"severity":              setSeverity,
	"roles":                 setRole,
	"notes":                 addNote,
	"alerts":                linkAlert,
	"checklist/{n}":         checkItem,
	"actions":               addAction,
	"actions/{action}/done": completeAction,
	"resolve":               resolveIncident,
	"postmortem/done":       postmortemDone,
}

// incidentAction runs a form of an incident's page and goes back to it.
// A problem with what was typed shows the page again with the problem
// and the form as it was filled.
func (u *UI) incidentAction(form string, act incidentAct) page {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		if u.Incidents == nil {
			u.fail(w, r, p, errNoIncidents)
			return
		}
		id, err := incidentID(r)
		if err != nil {
			u.fail(w, r, p, err)
			return
		}
		flash, err := act(u, r, id, p.Name)
		if err != nil {
			status, ok := formProblem(err)
			if !ok {
				u.fail(w, r, p, err)
				return
			}
			// An unknown incident fails again there, as an error page.
			u.showIncident(w, r, p, id, status, klaxon.ErrorMessage(err), typedForm{form, r.PostForm})
			return
		}
		u.done(w, r, incidentPath(id), flash)
	}
}

func postUpdate(u *UI, r *http.Request, id int64, actor string) (string, error) {
	up := incident.Update{
		Text:   r.PostFormValue("text"),
		Public: r.PostFormValue("public") != "",
		Status: klaxon.IncidentStatus(r.PostFormValue("status")),
	}
	inc, err := u.Incidents.PostUpdate(r.Context(), id, actor, up)
	if err != nil {
		return "", err
	}
	if up.Public && !inc.Public {
		return "Update posted. It is not on the status page: this incident is not public.", nil
	}
	return "Update posted.", nil
}

func setStatus(u *UI, r *http.Request, id int64, actor string) (string, error) {
	st := klaxon.IncidentStatus(r.PostFormValue("status"))
	if _, err := u.Incidents.SetStatus(r.Context(), id, actor, st); err != nil {
		return "", err
	}
	return fmt.Sprintf("Status set to %s.", st), nil
}

func setSeverity(u *UI, r *http.Request, id int64, actor string) (string, error) {
	l, err := u.Incidents.ParseLevel(r.PostFormValue("severity"))
	if err != nil {
		return "", err
	}
	if _, err := u.Incidents.SetLevel(r.Context(), id, actor, l); err != nil {
		return "", err
	}
	return fmt.Sprintf("Severity set to %s.", u.Incidents.LevelName(l)), nil
}

func setRole(u *UI, r *http.Request, id int64, actor string) (string, error) {
	role, err := incident.ParseRole(r.PostFormValue("role"))
	if err != nil {
		return "", err
	}
	person := r.PostFormValue("person")
	if strings.TrimSpace(person) == "" {
		return "", klaxon.Errorf(klaxon.EINVALID, "name the person to make %s", strings.ReplaceAll(string(role), "_", " "))
	}
	inc, err := u.Incidents.SetRole(r.Context(), id, actor, role, person)
	if err != nil {
		return "", err
	}
	switch role {
	case incident.RoleCommander:
		return fmt.Sprintf("%s is now the commander.", inc.Commander), nil
	case incident.RoleComms:
		return fmt.Sprintf("%s is now the comms lead.", inc.CommsLead), nil
	}
	return fmt.Sprintf("%s is now a responder.", inc.Responders[len(inc.Responders)-1]), nil
}

func addNote(u *UI, r *http.Request, id int64, actor string) (string, error) {
	if _, err := u.Incidents.Note(r.Context(), id, actor, r.PostFormValue("text")); err != nil {
		return "", err
	}
	return "Note added.", nil
}

func linkAlert(u *UI, r *http.Request, id int64, actor string) (string, error) {
	v := strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("alert")), "#")
	alertID, err := strconv.ParseInt(v, 10, 64)
	if err != nil || alertID < 1 {
		return "", klaxon.Errorf(klaxon.EINVALID, "alert: got %q, want an alert's number, e.g. 1234", r.PostFormValue("alert"))
	}
	if _, err := u.Incidents.LinkAlert(r.Context(), id, actor, alertID); err != nil {
		return "", err
	}
	return fmt.Sprintf("Alert %d linked.", alertID), nil
}

func checkItem(u *UI, r *http.Request, id int64, actor string) (string, error) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		return "", klaxon.Errorf(klaxon.EINVALID, "checklist item: got %q, want its number", r.PathValue("n"))
	}
	done := r.PostFormValue("done") != "false"
	if _, err := u.Incidents.Check(r.Context(), id, actor, n, done); err != nil {
		return "", err
	}
	if done {
		return fmt.Sprintf("Ticked item %d.", n), nil
	}
	return fmt.Sprintf("Unticked item %d.", n), nil
}

func addAction(u *UI, r *http.Request, id int64, actor string) (string, error) {
	item, err := u.Incidents.AddAction(r.Context(), id, actor, r.PostFormValue("text"), r.PostFormValue("owner"))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Added action item %d.", item.ID), nil
}

func completeAction(u *UI, r *http.Request, id int64, actor string) (string, error) {
	actionID, err := strconv.ParseInt(r.PathValue("action"), 10, 64)
	if err != nil {
		return "", klaxon.Errorf(klaxon.EINVALID, "action item: got %q, want its number", r.PathValue("action"))
	}
	// The form belongs to this incident's page: an item of another one
	// is not done from here.
	items, err := u.Incidents.Actions(r.Context(), klaxon.ActionFilter{IncidentID: id})
	if err != nil {
		return "", err
	}
	if !slices.ContainsFunc(items, func(a klaxon.ActionItem) bool { return a.ID == actionID }) {
		return "", klaxon.Errorf(klaxon.EINVALID, "incident %d has no action item %d", id, actionID)
	}
	if _, err := u.Incidents.CompleteAction(r.Context(), actionID, actor); err != nil {
		return "", err
	}
	return fmt.Sprintf("Action item %d done.", actionID), nil
}

func resolveIncident(u *UI, r *http.Request, id int64, actor string) (string, error) {
	c := incident.Closure{RootCause: r.PostFormValue("cause"), Fix: r.PostFormValue("fix"), Impact: r.PostFormValue("impact")}
	inc, err := u.Incidents.Resolve(r.Context(), id, actor, c)
	if err != nil {
		return "", err
	}
	if !inc.PostmortemDue.IsZero() {
		return "Resolved. The postmortem draft is ready below.", nil
	}
	return "Resolved.", nil
}

func postmortemDone(u *UI, r *http.Request, id int64, actor string) (string, error) {
	if _, err := u.Incidents.PostmortemDone(r.Context(), id, actor); err != nil {
		return "", err
	}
	return "Postmortem marked done: its reminders stop.", nil
}

// incidentID reads the {id} of an incident's path.
func incidentID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, klaxon.Errorf(klaxon.ENOTFOUND, "no incident %q: incidents have numbers, e.g. /incidents/7", v)
	}
	return id, nil
}

func incidentPath(id int64) string { return fmt.Sprintf("/incidents/%d", id) }

// typedForm is what was typed into a form that failed, so the page shown
// with the problem has it filled in again and nothing is typed twice.
type typedForm struct {
	name   string
	values url.Values
}

func (f typedForm) value(form, field string) string {
	if f.name != form {
		return ""
	}
	return f.values.Get(field)
}

// formProblem says whether err is a problem with what a form asked for,
// shown above the form again with its status, rather than an error page.
func formProblem(err error) (status int, ok bool) {
	switch code := klaxon.ErrorCode(err); code {
	case klaxon.EINVALID, klaxon.ECONFLICT, klaxon.ENOTFOUND:
		return statusByCode[code], true
	}
	return 0, false
}
