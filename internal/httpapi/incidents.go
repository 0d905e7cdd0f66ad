package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/incident"
)

// Incident is an incident as the API shows it: the stored incident plus
// its level's incident name.
type Incident struct {
	*klaxon.Incident
	Severity string `json:"severity"` // "SEV1"
}

// IncidentList is the answer to GET /api/v1/incidents.
type IncidentList struct {
	Incidents []Incident `json:"incidents"`
}

// IncidentDetail is the answer to GET /api/v1/incidents/{id}.
type IncidentDetail struct {
	Incident Incident               `json:"incident"`
	Timeline []klaxon.TimelineEntry `json:"timeline"`
	Actions  []klaxon.ActionItem    `json:"actions"`
}

// Suggestion is the severity helper's answer: a level, its name and why.
type Suggestion struct {
	Severity string       `json:"severity"` // "SEV2"
	Level    klaxon.Level `json:"level"`
	Why      string       `json:"why"`
}

// DeclareRequest is the body of POST /api/v1/incidents.
type DeclareRequest struct {
	Service string `json:"service"`
	Summary string `json:"summary"`
	// Severity is typed as people say it: "sev1", "1", "P0". Empty: the
	// suggestion from Failing and Down.
	Severity  string `json:"severity,omitempty"`
	Failing   string `json:"failing,omitempty"` // "35%"
	Down      bool   `json:"down,omitempty"`    // users cannot reach the service at all
	Commander string `json:"commander,omitempty"`
	AlertID   int64  `json:"alert_id,omitempty"`
	Room      *bool  `json:"room,omitempty"`   // nil: as configured
	Public    *bool  `json:"public,omitempty"` // nil: if the service is on the status page
}

// Declared is the answer to POST /api/v1/incidents. Suggested is there
// when failing or down was given, even if a severity was chosen.
type Declared struct {
	Incident  Incident    `json:"incident"`
	Suggested *Suggestion `json:"suggested,omitempty"`
}

// UpdateRequest is the body of POST /api/v1/incidents/{id}/updates.
type UpdateRequest struct {
	Text   string `json:"text"`
	Public bool   `json:"public,omitempty"`
	Status string `json:"status,omitempty"` // "": keep the status
}

// ResolveRequest is the body of POST /api/v1/incidents/{id}/resolve.
type ResolveRequest struct {
	RootCause string `json:"root_cause"`
	Fix       string `json:"fix"`
	Impact    string `json:"impact"`
}

// ActionList is the answer to GET /api/v1/actions.
type ActionList struct {
	Actions []klaxon.ActionItem `json:"actions"`
}

// ComponentStatus is the answer to PUT /api/v1/components/{name}; an
// empty status means it was cleared.
type ComponentStatus struct {
	Component string `json:"component"`
	Status    string `json:"status"`
}

func (s *Server) incidentRoutes(mux *http.ServeMux) {
	route := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, s.person(s.needIncidents(h)))
	}
	route("GET /api/v1/incidents", s.listIncidents)
	route("POST /api/v1/incidents", s.declareIncident)
	route("GET /api/v1/incidents/{id}", s.getIncident)
	route("POST /api/v1/incidents/{id}/updates", s.changeIncident(s.postUpdate))
	route("POST /api/v1/incidents/{id}/status", s.changeIncident(s.setIncidentStatus))
	route("POST /api/v1/incidents/{id}/severity", s.changeIncident(s.setIncidentSeverity))
	route("POST /api/v1/incidents/{id}/roles", s.changeIncident(s.setIncidentRole))
	route("POST /api/v1/incidents/{id}/checklist/{n}", s.checkItem(true))
	route("DELETE /api/v1/incidents/{id}/checklist/{n}", s.checkItem(false))
	route("POST /api/v1/incidents/{id}/notes", s.changeIncident(s.addNote))
	route("POST /api/v1/incidents/{id}/alerts", s.changeIncident(s.linkAlert))
	route("POST /api/v1/incidents/{id}/resolve", s.changeIncident(s.resolveIncident))
	route("GET /api/v1/incidents/{id}/postmortem", s.postmortem)
	route("POST /api/v1/incidents/{id}/postmortem/done", s.changeIncident(s.postmortemDone))
	route("POST /api/v1/incidents/{id}/actions", s.addAction)
	route("GET /api/v1/actions", s.listActions)
	route("POST /api/v1/actions/{id}/done", s.completeAction)
	route("GET /api/v1/severity", s.suggestSeverity)
	mux.HandleFunc("PUT /api/v1/components/{name}", s.person(s.setComponent))

	// The status page is public: it is what customers read.
	status := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, klaxon.Errorf(klaxon.ENOTFOUND, "the status page is not set up on this server"))
	}))
	if s.StatusPage != nil {
		status = s.StatusPage.Handler()
	}
	mux.Handle("GET /status", status)
	mux.Handle("GET /status/", status)
}

// needIncidents answers 404 when the server runs no incident service.
func (s *Server) needIncidents(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Incidents == nil {
			writeError(w, klaxon.Errorf(klaxon.ENOTFOUND, "incidents are not set up on this server"))
			return
		}
		h(w, r)
	}
}

func (s *Server) incidentView(i *klaxon.Incident) Incident {
	return Incident{Incident: i, Severity: s.Incidents.LevelName(i.Level)}
}

// decodeBody reads a JSON object into v, refusing unknown fields; fields
// lists what v takes, for the error message.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any, fields string) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return klaxon.Errorf(klaxon.EINVALID, "body: missing; want a JSON object with %s", fields)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return klaxon.Errorf(klaxon.EINVALID, "body: want a JSON object with %s: %v", fields, err)
	}
	return nil
}

// fieldError prefixes an invalid value's message with the field it came
// from, so a caller knows which one to fix.
func fieldError(field string, err error) error {
	if klaxon.ErrorCode(err) != klaxon.EINVALID {
		return err
	}
	return klaxon.Errorf(klaxon.EINVALID, "%s: %s", field, klaxon.ErrorMessage(err))
}

func pathID(r *http.Request, name, what string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, klaxon.Errorf(klaxon.EINVALID, "%s: got %q, want a positive number", what, v)
	}
	return id, nil
}

func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, klaxon.Errorf(klaxon.EINVALID, "%s: got %q, want true or false", name, v)
	}
	return b, nil
}

// incidentStatus reads a status as typed; the service says which there are.
func incidentStatus(v string) klaxon.IncidentStatus {
	return klaxon.IncidentStatus(strings.ToLower(strings.TrimSpace(v)))
}

// assessment reads the severity helper's inputs: failing as typed ("35%";
// "" for not known) and whether the service is down.
func assessment(failing string, down bool) (incident.Assessment, error) {
	a := incident.Assessment{Unreachable: down, Failing: -1}
	if failing != "" {
		v, err := incident.ParseFailing(failing)
		if err != nil {
			return a, fieldError("failing", err)
		}
		a.Failing = v
	}
	return a, nil
}

func (s *Server) suggestion(a incident.Assessment) *Suggestion {
	l, why := incident.Suggest(a)
	return &Suggestion{Severity: s.Incidents.LevelName(l), Level: l, Why: why}
}

// listIncidents: ?open=true for unresolved ones only, ?limit= (100).
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	open, err := boolParam(q, "open")
	if err != nil {
		writeError(w, err)
		return
	}
	f := klaxon.IncidentFilter{Open: open, Limit: 100}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			writeError(w, klaxon.Errorf(klaxon.EINVALID, "limit: got %q, want a number from 1 to %d", v, maxListLimit))
			return
		}
		f.Limit = n
	}
	list, err := s.Incidents.Incidents(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := IncidentList{Incidents: make([]Incident, len(list))}
	for i, inc := range list {
		out.Incidents[i] = s.incidentView(inc)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) declareIncident(w http.ResponseWriter, r *http.Request) {
	var req DeclareRequest
	if err := s.decodeBody(w, r, &req, "service, summary, severity, failing, down, commander, alert_id, room or public"); err != nil {
		writeError(w, err)
		return
	}
	d := incident.Declaration{
		Service:   req.Service,
		Summary:   req.Summary,
		Reporter:  actor(r.Context()),
		Commander: req.Commander,
		AlertID:   req.AlertID,
		Room:      req.Room,
		Public:    req.Public,
	}
	if req.Severity != "" {
		l, err := s.Incidents.ParseLevel(req.Severity)
		if err != nil {
			writeError(w, fieldError("severity", err))
			return
		}
		d.Level = &l
	}
	if req.Failing != "" || req.Down {
		a, err := assessment(req.Failing, req.Down)
		if err != nil {
			writeError(w, err)
			return
		}
		d.Assessment = &a
	}
	inc, err := s.Incidents.Declare(r.Context(), d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := Declared{Incident: s.incidentView(inc)}
	if d.Assessment != nil {
		out.Suggested = s.suggestion(*d.Assessment)
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "incident ID")
	if err != nil {
		writeError(w, err)
		return
	}
	ctx := r.Context()
	inc, err := s.Incidents.Incident(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	timeline, err := s.Incidents.Timeline(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	actions, err := s.Incidents.Actions(ctx, klaxon.ActionFilter{IncidentID: id})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if timeline == nil {
		timeline = []klaxon.TimelineEntry{}
	}
	if actions == nil {
		actions = []klaxon.ActionItem{}
	}
	writeJSON(w, http.StatusOK, IncidentDetail{Incident: s.incidentView(inc), Timeline: timeline, Actions: actions})
}

// incidentChange is a handler's part of a change to one incident: read
// the request, call the service.
type incidentChange func(ctx context.Context, id int64, actor string, w http.ResponseWriter, r *http.Request) (*klaxon.Incident, error)

// changeIncident answers a change with the changed incident.
func (s *Server) changeIncident(change incidentChange) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id", "incident ID")
		if err != nil {
			writeError(w, err)
			return
		}
		inc, err := change(r.Context(), id, actor(r.Context()), w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s.incidentView(inc))
	}
}

func (s *Server) postUpdate(ctx context.Context, id int64, who string, w http.ResponseWriter, r *http.Request) (*klaxon.Incident, error) {
	var req UpdateRequest
	if err := s.decodeBody(w, r, &req, "text, public or status"); err != nil {
		return nil, err
	}
	u := incident.Update{Text: req.Text, Public: req.Public, Status: incidentStatus(req.Status)}
	return s.Incidents.PostUpdate(ctx, id, who, u)
}

func (s *Server) setIncidentStatus(ctx context.Context, id int64, who string, w http.ResponseWriter, r *http.Request) (*klaxon.Incident, error) {
	var req struct {
		Status string `json:"status"`
	}
	if err := s.decodeBody(w, r, &req, "status"); err != nil {
		return nil, err
	}
	return s.Incidents.SetStatus(ctx, id, who, incidentStatus(req.Status))
}

func (s *Server) setIncidentSeverity(ctx context.Context, id int64, who string, w http.ResponseWriter, r *http.Request) (*klaxon.Incident, error) {
	var req struct {
		Severity string `json:"severity"`
	}
	if err := s.decodeBody(w, r, &req, "severity"); err != nil {
		return nil, err
	}
	l, err := s.Incidents.ParseLevel(req.Severity)
	if err != nil {
		return nil, fieldError("severity", err)
	}
	return s.Incidents.SetLevel(ctx, id, who, l)
}

func (s *Server) setIncidentRole(ctx context.Context, id int64, who string, w http.ResponseWriter, r *http.Request) (*klaxon.Incident, error) {
	var req struct {
		Role   string `json:"role"`
		Person string `json:"person"`
	}
	if err := s.decodeBody(w, r, &req, "role and person"); err != nil {
		return nil, err
	}
	// Roles read as people type them: "comms" is comms_lead.
	role, err := incident.ParseRole(req.Role)
	if err != nil {
		return nil, fieldError("role", err)
	}
	return s.Incidents.SetRole(ctx, id, who, role, req.Person)
}

// checkItem ticks (POST) or unticks (DELETE) checklist item {n}.
func (s *Server) checkItem(done bool) http.HandlerFunc {
	return s.changeIncident(func(ctx context.Context, id int64, who string, w http.ResponseWriter, r *http.Request) (*klaxon.Incident, error) {
		v := r.PathValue("n")
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, klaxon.Errorf(klaxon.EINVALID, "checklist item: got %q, want its number, counted from 1", v)
		}
		return s.Incidents.Check(ctx, id, who, n, done)
	})
}

func (s *Server) addNote(ctx context.Context, id int64, who string, w http.ResponseWriter, r *http.Request) (*klaxon.Incident, error) {
	var req struct {
		Text string `json:"text"`
	}
	if err := s.decodeBody(w, r, &req, "text"); err != nil {
		return nil, err
	}
	return s.Incidents.Note(ctx, id, who, req.Text)
}

func (s *Server) linkAlert(ctx context.Context, id int64, who string, w http.ResponseWriter, r *http.Request) (*klaxon.Incident, error) {
	var req struct {
		AlertID int64 `json:"alert_id"`
	}
	if err := s.decodeBody(w, r, &req, "alert_id"); err != nil {
		return nil, err
	}
	if req.AlertID < 1 {
		return nil, klaxon.Errorf(klaxon.EINVALID, "alert_id: got %d, want an alert ID", req.AlertID)
	}
	return s.Incidents.LinkAlert(ctx, id, who, req.AlertID)
}

func (s *Server) resolveIncident(ctx context.Context, id int64, who string, w http.ResponseWriter, r *http.Request) (*klaxon.Incident, error) {
	var req ResolveRequest
	if err := s.decodeBody(w, r, &req, "root_cause, fix and impact"); err != nil {
		return nil, err
	}
	return s.Incidents.Resolve(ctx, id, who, incident.Closure{RootCause: req.RootCause, Fix: req.Fix, Impact: req.Impact})
}

func (s *Server) postmortemDone(ctx context.Context, id int64, who string, _ http.ResponseWriter, _ *http.Request) (*klaxon.Incident, error) {
	return s.Incidents.PostmortemDone(ctx, id, who)
}

// postmortem answers the draft as Markdown, ready to paste into a doc.
func (s *Server) postmortem(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "incident ID")
	if err != nil {
		writeError(w, err)
		return
	}
	// Whoever asks for the draft is the one writing it up.
	md, err := s.Incidents.Postmortem(r.Context(), id, actor(r.Context()))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Write(md)
}

func (s *Server) addAction(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "incident ID")
	if err != nil {
		writeError(w, err)
		return
	}
	var req struct {
		Text  string `json:"text"`
		Owner string `json:"owner"`
	}
	if err := s.decodeBody(w, r, &req, "text and owner"); err != nil {
		writeError(w, err)
		return
	}
	a, err := s.Incidents.AddAction(r.Context(), id, actor(r.Context()), req.Text, req.Owner)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// listActions: ?open=true for those not done, ?incident=ID for one incident's.
func (s *Server) listActions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	open, err := boolParam(q, "open")
	if err != nil {
		writeError(w, err)
		return
	}
	f := klaxon.ActionFilter{Open: open}
	if v := q.Get("incident"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			writeError(w, klaxon.Errorf(klaxon.EINVALID, "incident: got %q, want an incident ID", v))
			return
		}
		f.IncidentID = id
	}
	list, err := s.Incidents.Actions(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if list == nil {
		list = []klaxon.ActionItem{}
	}
	writeJSON(w, http.StatusOK, ActionList{Actions: list})
}

func (s *Server) completeAction(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "action ID")
	if err != nil {
		writeError(w, err)
		return
	}
	a, err := s.Incidents.CompleteAction(r.Context(), id, actor(r.Context()))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// suggestSeverity: ?failing=35%&down=false. It only suggests; nothing is
// stored.
func (s *Server) suggestSeverity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	down, err := boolParam(q, "down")
	if err != nil {
		writeError(w, err)
		return
	}
	a, err := assessment(q.Get("failing"), down)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.suggestion(a))
}

func (s *Server) setComponent(w http.ResponseWriter, r *http.Request) {
	if s.StatusPage == nil {
		writeError(w, klaxon.Errorf(klaxon.ENOTFOUND, "the status page is not set up on this server"))
		return
	}
	var req struct {
		Status string `json:"status"`
	}
	if err := s.decodeBody(w, r, &req, "status (empty to clear)"); err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	if err := s.StatusPage.SetComponent(r.Context(), name, req.Status, actor(r.Context())); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ComponentStatus{Component: name, Status: strings.ToLower(strings.TrimSpace(req.Status))})
}

// DeclareIncident declares an incident; the token's name is the reporter.
func (c *Client) DeclareIncident(ctx context.Context, req DeclareRequest) (*Declared, error) {
	var out Declared
	return &out, c.do(ctx, http.MethodPost, "/api/v1/incidents", req, &out)
}

// Incidents lists incidents, newest first: only open ones if open; limit
// 0 is the server's default.
func (c *Client) Incidents(ctx context.Context, open bool, limit int) (*IncidentList, error) {
	q := url.Values{}
	if open {
		q.Set("open", "true")
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out IncidentList
	return &out, c.do(ctx, http.MethodGet, "/api/v1/incidents?"+q.Encode(), nil, &out)
}

// Incident returns one incident with its timeline and action items.
func (c *Client) Incident(ctx context.Context, id int64) (*IncidentDetail, error) {
	var out IncidentDetail
	return &out, c.do(ctx, http.MethodGet, incidentPath(id, ""), nil, &out)
}

func incidentPath(id int64, sub string) string {
	p := fmt.Sprintf("/api/v1/incidents/%d", id)
	if sub != "" {
		p += "/" + sub
	}
	return p
}

// changeIncident posts body to one of an incident's sub-resources.
func (c *Client) changeIncident(ctx context.Context, method string, id int64, sub string, body any) (*Incident, error) {
	var out Incident
	return &out, c.do(ctx, method, incidentPath(id, sub), body, &out)
}

// PostIncidentUpdate posts a status update.
func (c *Client) PostIncidentUpdate(ctx context.Context, id int64, req UpdateRequest) (*Incident, error) {
	return c.changeIncident(ctx, http.MethodPost, id, "updates", req)
}

// SetIncidentStatus changes an incident's status (not to resolved: see
// ResolveIncident).
func (c *Client) SetIncidentStatus(ctx context.Context, id int64, status string) (*Incident, error) {
	return c.changeIncident(ctx, http.MethodPost, id, "status", map[string]string{"status": status})
}

// SetIncidentSeverity changes an incident's severity, typed as people say
// it ("sev1", "1", "P0").
func (c *Client) SetIncidentSeverity(ctx context.Context, id int64, severity string) (*Incident, error) {
	return c.changeIncident(ctx, http.MethodPost, id, "severity", map[string]string{"severity": severity})
}

// SetIncidentRole gives person a role: commander, comms_lead or responder.
func (c *Client) SetIncidentRole(ctx context.Context, id int64, role, person string) (*Incident, error) {
	return c.changeIncident(ctx, http.MethodPost, id, "roles", map[string]string{"role": role, "person": person})
}

// CheckIncidentItem ticks (done) or unticks checklist item n, counted from 1.
func (c *Client) CheckIncidentItem(ctx context.Context, id int64, n int, done bool) (*Incident, error) {
	method := http.MethodPost
	if !done {
		method = http.MethodDelete
	}
	return c.changeIncident(ctx, method, id, "checklist/"+strconv.Itoa(n), nil)
}

// AddIncidentNote adds a note to an incident's timeline.
func (c *Client) AddIncidentNote(ctx context.Context, id int64, text string) (*Incident, error) {
	return c.changeIncident(ctx, http.MethodPost, id, "notes", map[string]string{"text": text})
}

// LinkIncidentAlert links an alert to an incident.
func (c *Client) LinkIncidentAlert(ctx context.Context, id, alertID int64) (*Incident, error) {
	return c.changeIncident(ctx, http.MethodPost, id, "alerts", map[string]int64{"alert_id": alertID})
}

// ResolveIncident closes an incident with its root cause, fix and impact.
func (c *Client) ResolveIncident(ctx context.Context, id int64, req ResolveRequest) (*Incident, error) {
	return c.changeIncident(ctx, http.MethodPost, id, "resolve", req)
}

// Postmortem returns an incident's postmortem draft as Markdown.
func (c *Client) Postmortem(ctx context.Context, id int64) ([]byte, error) {
	var out []byte
	err := c.do(ctx, http.MethodGet, incidentPath(id, "postmortem"), nil, &out)
	return out, err
}

// PostmortemDone marks an incident's postmortem written.
func (c *Client) PostmortemDone(ctx context.Context, id int64) (*Incident, error) {
	return c.changeIncident(ctx, http.MethodPost, id, "postmortem/done", nil)
}

// AddAction adds a follow-up action item to an incident; owner may be "".
func (c *Client) AddAction(ctx context.Context, id int64, text, owner string) (*klaxon.ActionItem, error) {
	var out klaxon.ActionItem
	body := map[string]string{"text": text}
	if owner != "" {
		body["owner"] = owner
	}
	return &out, c.do(ctx, http.MethodPost, incidentPath(id, "actions"), body, &out)
}

// CompleteAction marks an action item done.
func (c *Client) CompleteAction(ctx context.Context, actionID int64) (*klaxon.ActionItem, error) {
	var out klaxon.ActionItem
	return &out, c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/actions/%d/done", actionID), nil, &out)
}

// Actions lists action items.
func (c *Client) Actions(ctx context.Context, f klaxon.ActionFilter) (*ActionList, error) {
	q := url.Values{}
	if f.Open {
		q.Set("open", "true")
	}
	if f.IncidentID > 0 {
		q.Set("incident", strconv.FormatInt(f.IncidentID, 10))
	}
	var out ActionList
	return &out, c.do(ctx, http.MethodGet, "/api/v1/actions?"+q.Encode(), nil, &out)
}

// SuggestSeverity asks the server's severity helper, which names levels
// as configured; failing as typed ("35%", "" if not known).
func (c *Client) SuggestSeverity(ctx context.Context, failing string, down bool) (*Suggestion, error) {
	q := url.Values{}
	if failing != "" {
		q.Set("failing", failing)
	}
	if down {
		q.Set("down", "true")
	}
	var out Suggestion
	return &out, c.do(ctx, http.MethodGet, "/api/v1/severity?"+q.Encode(), nil, &out)
}

// SetComponentStatus sets a status-page component's status by hand, or
// clears it with "" so its incidents decide again.
func (c *Client) SetComponentStatus(ctx context.Context, component, status string) (*ComponentStatus, error) {
	var out ComponentStatus
	return &out, c.do(ctx, http.MethodPut, "/api/v1/components/"+url.PathEscape(component), map[string]string{"status": status}, &out)
}
