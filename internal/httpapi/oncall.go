package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// Default and largest spans of the on-call lists and feeds.
const (
	defaultShiftSpan    = 14 * 24 * time.Hour
	defaultOverrideSpan = 90 * 24 * time.Hour
	maxSpan             = 366 * 24 * time.Hour
	feedPast            = 30 * 24 * time.Hour
	feedFuture          = 180 * 24 * time.Hour
)

// Feed kinds, as oncall.Service.FeedToken takes them.
const (
	feedSchedule = "schedule"
	feedUser     = "user"
)

// OnCall is who is on call for one schedule at a time, and who is next.
type OnCall struct {
	Schedule string        `json:"schedule"`
	Now      *oncall.Shift `json:"now"`  // null: nobody
	Next     *oncall.Shift `json:"next"` // null: nobody scheduled
	// CalendarURL is the schedule's iCalendar feed; absent when feeds are
	// off (no calendar secret).
	CalendarURL string `json:"calendar_url,omitempty"`
}

// OnCallList is the answer to GET /api/v1/oncall.
type OnCallList struct {
	OnCall []OnCall `json:"oncall"`
}

// ShiftList is the answer to GET /api/v1/schedules/{name}/shifts and
// GET /api/v1/users/{name}/shifts.
type ShiftList struct {
	From   time.Time      `json:"from"`
	To     time.Time      `json:"to"`
	Shifts []oncall.Shift `json:"shifts"`
	// CalendarURL is the schedule's or user's iCalendar feed; absent when
	// feeds are off.
	CalendarURL string `json:"calendar_url,omitempty"`
}

// OverrideList is the answer to GET /api/v1/overrides.
type OverrideList struct {
	Overrides []klaxon.Override `json:"overrides"`
}

// OverrideRequest is the body of POST /api/v1/overrides: User is on call
// for Schedule from Start (zero: now) until End, or for Duration ("8h");
// exactly one of End and Duration.
type OverrideRequest struct {
	Schedule string    `json:"schedule"`
	User     string    `json:"user"`
	Replaces string    `json:"replaces,omitempty"`
	Start    time.Time `json:"start,omitzero"`
	End      time.Time `json:"end,omitzero"`
	Duration string    `json:"duration,omitempty"`
}

// shiftLister is oncall.Service.Shifts or UserShifts.
type shiftLister func(ctx context.Context, name string, from, to time.Time) ([]oncall.Shift, error)

func (s *Server) onCallRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/oncall", s.person(s.needOnCall(s.whoIsOnCall)))
	mux.HandleFunc("GET /api/v1/schedules/{name}/shifts", s.person(s.needOnCall(s.scheduleShifts)))
	mux.HandleFunc("GET /api/v1/users/{name}/shifts", s.person(s.needOnCall(s.userShifts)))
	mux.HandleFunc("GET /api/v1/overrides", s.person(s.needOnCall(s.listOverrides)))
	mux.HandleFunc("POST /api/v1/overrides", s.person(s.needOnCall(s.addOverride)))
	mux.HandleFunc("DELETE /api/v1/overrides/{id}", s.person(s.needOnCall(s.removeOverride)))
	// Calendar apps fetch feeds with nothing but the URL: the signed
	// ?token= is the credential (and the request log leaves queries out).
	mux.HandleFunc("GET /calendar/schedules/{file}", s.feed(feedSchedule))
	mux.HandleFunc("GET /calendar/users/{file}", s.feed(feedUser))
}

// needOnCall answers 404 when no schedules are configured.
func (s *Server) needOnCall(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.OnCall == nil {
			writeError(w, klaxon.Errorf(klaxon.ENOTFOUND, "no schedules are configured"))
			return
		}
		h(w, r)
	}
}

func (s *Server) whoIsOnCall(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// Absent, at stays zero: the service's own clock says when now is.
	at, err := timeParam(q, "at", time.Time{})
	if err != nil {
		writeError(w, err)
		return
	}
	list, err := s.OnCall.OnCall(r.Context(), q.Get("schedule"), at)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := OnCallList{OnCall: make([]OnCall, len(list))}
	for i, oc := range list {
		out.OnCall[i] = OnCall{Schedule: oc.Schedule, Now: oc.Now, Next: oc.Next, CalendarURL: s.calendarURL(feedSchedule, oc.Schedule)}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) scheduleShifts(w http.ResponseWriter, r *http.Request) {
	s.shifts(w, r, feedSchedule, s.OnCall.Shifts)
}

func (s *Server) userShifts(w http.ResponseWriter, r *http.Request) {
	s.shifts(w, r, feedUser, s.OnCall.UserShifts)
}

func (s *Server) shifts(w http.ResponseWriter, r *http.Request, kind string, list shiftLister) {
	from, to, err := span(r.URL.Query(), s.Now(), defaultShiftSpan)
	if err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	shifts, err := list(r.Context(), name, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if shifts == nil {
		shifts = []oncall.Shift{}
	}
	writeJSON(w, http.StatusOK, ShiftList{From: from, To: to, Shifts: shifts, CalendarURL: s.calendarURL(kind, name)})
}

func (s *Server) listOverrides(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, err := span(q, s.Now(), defaultOverrideSpan)
	if err != nil {
		writeError(w, err)
		return
	}
	list, err := s.OnCall.Overrides(r.Context(), q.Get("schedule"), from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if list == nil {
		list = []klaxon.Override{}
	}
	writeJSON(w, http.StatusOK, OverrideList{Overrides: list})
}

func (s *Server) addOverride(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	o, err := decodeOverride(body, s.Now())
	if err != nil {
		writeError(w, err)
		return
	}
	o.CreatedBy = actor(r.Context())
	added, err := s.OnCall.AddOverride(r.Context(), o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, added)
}

// decodeOverride reads an OverrideRequest, naming the field at fault.
// Times are read by hand so a bad one is reported by name.
func decodeOverride(body []byte, now time.Time) (klaxon.Override, error) {
	var req struct {
		Schedule string `json:"schedule"`
		User     string `json:"user"`
		Replaces string `json:"replaces"`
		Start    string `json:"start"`
		End      string `json:"end"`
		Duration string `json:"duration"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return klaxon.Override{}, klaxon.Errorf(klaxon.EINVALID, "body: want a JSON object with schedule, user, replaces, start, end or duration: %v", err)
	}
	o := klaxon.Override{Schedule: req.Schedule, User: req.User, Replaces: req.Replaces, Start: now}
	var problems []string
	if o.Schedule == "" {
		problems = append(problems, "schedule: missing")
	}
	if o.User == "" {
		problems = append(problems, "user: missing")
	}
	if req.Start != "" {
		t, err := time.Parse(time.RFC3339, req.Start)
		if err != nil {
			problems = append(problems, "start: got "+strconv.Quote(req.Start)+", want an RFC 3339 time (2026-03-10T09:00:00+01:00)")
		}
		o.Start = t
	}
	switch {
	case req.End != "" && req.Duration != "":
		problems = append(problems, "end and duration: give one, not both")
	case req.End != "":
		t, err := time.Parse(time.RFC3339, req.End)
		if err != nil {
			problems = append(problems, "end: got "+strconv.Quote(req.End)+", want an RFC 3339 time (2026-03-10T17:00:00+01:00)")
		}
		o.End = t
	case req.Duration != "":
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			problems = append(problems, "duration: got "+strconv.Quote(req.Duration)+", want a positive duration (8h, 90m)")
		}
		o.End = o.Start.Add(d)
	default:
		problems = append(problems, "end or duration: missing (say until when, or for how long)")
	}
	if len(problems) > 0 {
		return o, &klaxon.Error{Code: klaxon.EINVALID, Message: strings.Join(problems, "; "), Problems: problems}
	}
	return o, nil
}

func (s *Server) removeOverride(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		writeError(w, klaxon.Errorf(klaxon.EINVALID, "override ID: got %q, want a positive number", v))
		return
	}
	o, err := s.OnCall.RemoveOverride(r.Context(), id, actor(r.Context()))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// feed serves a schedule's or user's shifts as iCalendar. Any failure to
// authenticate is the same 404, so a feed URL reveals no names.
func (s *Server) feed(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
		token := r.URL.Query().Get("token")
		if !ok || name == "" || token == "" || s.OnCall == nil || !s.OnCall.CheckFeedToken(kind, name, token) {
			writeError(w, klaxon.Errorf(klaxon.ENOTFOUND, "no such calendar feed (ask Klaxon for a fresh link: klaxon oncall)"))
			return
		}
		var list shiftLister = s.OnCall.Shifts
		if kind == feedUser {
			list = s.OnCall.UserShifts
		}
		now := s.Now()
		shifts, err := list(r.Context(), name, now.Add(-feedPast), now.Add(feedFuture))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var buf bytes.Buffer
		if err := oncall.WriteICS(&buf, feedTitle(kind, name), shifts, now); err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Header().Set("Cache-Control", "private, max-age=300")
		w.Write(buf.Bytes())
	}
}

func feedTitle(kind, name string) string {
	if kind == feedUser {
		return name + " on call (Klaxon)"
	}
	return "On call for " + name + " (Klaxon)"
}

// calendarURL is the signed feed URL of a schedule or user, or "" when
// feeds are off.
func (s *Server) calendarURL(kind, name string) string {
	token := s.OnCall.FeedToken(kind, name)
	if token == "" {
		return ""
	}
	return strings.TrimSuffix(s.BaseURL, "/") + "/calendar/" + kind + "s/" + url.PathEscape(name) + ".ics?token=" + url.QueryEscape(token)
}

// timeParam reads an RFC 3339 query parameter; def when absent.
func timeParam(q url.Values, name string, def time.Time) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, klaxon.Errorf(klaxon.EINVALID, "%s: got %q, want an RFC 3339 time (2026-03-10T09:00:00Z)", name, v)
	}
	return t, nil
}

// span reads ?from= and ?to=: from defaults to now, to to from+def; to
// must follow from by at most maxSpan.
func span(q url.Values, now time.Time, def time.Duration) (from, to time.Time, err error) {
	if from, err = timeParam(q, "from", now); err != nil {
		return from, to, err
	}
	if to, err = timeParam(q, "to", from.Add(def)); err != nil {
		return from, to, err
	}
	if !to.After(from) {
		return from, to, klaxon.Errorf(klaxon.EINVALID, "to: %s is not after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if to.Sub(from) > maxSpan {
		return from, to, klaxon.Errorf(klaxon.EINVALID, "from, to: at most 366 days apart (got %d days)", int(to.Sub(from).Hours()/24))
	}
	return from, to, nil
}
