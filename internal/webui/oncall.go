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
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

const (
	// overviewDays is the span of each schedule's calendar on /oncall.
	overviewDays = 14
	// scheduleDays is a schedule page's default span, maxScheduleDays
	// the longest it shows at once.
	scheduleDays    = 28
	maxScheduleDays = 92
	// overridesAhead is how far ahead a schedule page lists overrides,
	// at least.
	overridesAhead = 90 * 24 * time.Hour
)

// Layouts of the forms' times: a date (?from=) and a datetime-local input,
// both read in the viewer's time zone.
const (
	dateLayout      = "2006-01-02"
	localTimeLayout = "2006-01-02T15:04"
	// shiftLayout is a shift's edge for people, as the at func shows times.
	shiftLayout = "Mon 2 Jan 15:04"
)

// Feed kinds, as oncall.Service.FeedToken takes them and the calendar
// feed URLs name them.
const (
	feedSchedule = "schedule"
	feedUser     = "user"
)

func (u *UI) onCallRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /oncall", u.need(klaxon.RoleViewer, u.onCallPage))
	mux.HandleFunc("GET /oncall/{schedule}", u.need(klaxon.RoleViewer, u.schedulePage))
	mux.HandleFunc("POST /oncall/overrides", u.need(klaxon.RoleResponder, u.addOverride))
	mux.HandleFunc("POST /oncall/overrides/{id}/remove", u.need(klaxon.RoleResponder, u.removeOverride))
}

// scheduleView is a schedule's who-now, who-next and calendar.
type scheduleView struct {
	Name    string
	Now     *oncall.Shift
	Next    *oncall.Shift
	FeedURL string // its iCalendar feed; "" when feeds are off
	Days    []calendarDay
	Zone    *time.Location // the viewer's
}

// calendarDay is one day of a calendar in the viewer's zone, with the
// shifts that touch it.
type calendarDay struct {
	Start  time.Time // local midnight
	Today  bool
	Shifts []dayShift
}

// Date is the day for a data-date attribute: 2026-03-10.
func (d calendarDay) Date() string { return d.Start.Format(dateLayout) }

// Label is the day for people: "Tue 10 Mar".
func (d calendarDay) Label() string { return d.Start.Format("Mon 2 Jan") }

// dayShift is the part of a shift within one day.
type dayShift struct {
	User     string
	Span     string // "all day", "from 09:00", "until 09:00", "09:00–17:00"
	Whole    string // the whole shift: "Mon 9 Mar 09:00 – Mon 16 Mar 09:00"
	Override bool
}

// calendar lays shifts out day by day for days days from from, a local
// midnight in zone. Days are counted on the calendar, so one across a
// daylight-saving change is 23 or 25 hours long.
func calendar(shifts []oncall.Shift, from time.Time, days int, now time.Time, zone *time.Location) []calendarDay {
	out := make([]calendarDay, days)
	today := now.In(zone)
	for i := range out {
		start := from.AddDate(0, 0, i)
		end := from.AddDate(0, 0, i+1)
		d := calendarDay{Start: start, Today: start.Year() == today.Year() && start.YearDay() == today.YearDay()}
		for _, sh := range shifts {
			if !sh.Start.Before(end) || !sh.End.After(start) {
				continue
			}
			d.Shifts = append(d.Shifts, dayShift{
				User: sh.User, Span: daySpan(sh, start, end, zone), Override: sh.Override != nil,
				Whole: sh.Start.In(zone).Format(shiftLayout) + " – " + sh.End.In(zone).Format(shiftLayout),
			})
		}
		out[i] = d
	}
	return out
}

// daySpan says which part of the day [start, end) a shift covers.
func daySpan(sh oncall.Shift, start, end time.Time, zone *time.Location) string {
	from, until := sh.Start.After(start), sh.End.Before(end)
	switch {
	case from && until:
		return sh.Start.In(zone).Format("15:04") + "–" + sh.End.In(zone).Format("15:04")
	case from:
		return "from " + sh.Start.In(zone).Format("15:04")
	case until:
		return "until " + sh.End.In(zone).Format("15:04")
	}
	return "all day"
}

// midnight is the start of t's day in zone.
func midnight(t time.Time, zone *time.Location) time.Time {
	y, m, d := t.In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, zone)
}

// policyView is an escalation policy for people.
type policyView struct {
	Name   string
	Repeat int
	Steps  []stepView
}

type stepView struct {
	When    string // "at once", "after 15m", "after the severity's ack deadline"
	Targets []oncall.Target
}

func policyViews(dir *oncall.Directory, schedule string) []policyView {
	var out []policyView
	for _, name := range slices.Sorted(maps.Keys(dir.Policies)) {
		p := dir.Policies[name]
		v := policyView{Name: name, Repeat: p.Repeat}
		uses := schedule == ""
		for i, st := range p.Steps {
			sv := stepView{Targets: st.Targets}
			switch {
			case st.After == nil && i == 0, st.After != nil && *st.After == 0:
				sv.When = "at once"
			case st.After == nil:
				sv.When = "after the severity's ack deadline"
			default:
				sv.When = "after " + shortDuration(*st.After)
			}
			for _, t := range st.Targets {
				uses = uses || t.Schedule == schedule
			}
			v.Steps = append(v.Steps, sv)
		}
		if uses {
			out = append(out, v)
		}
	}
	return out
}

// person is a configured user with their calendar feed.
type person struct {
	Name    string
	Zone    string
	FeedURL string
}

// feedURL is the path of a schedule's or user's iCalendar feed (served by
// the API), or "" when feeds are off.
func (u *UI) feedURL(kind, name string) string {
	token := u.OnCall.FeedToken(kind, name)
	if token == "" {
		return ""
	}
	return "/calendar/" + kind + "s/" + url.PathEscape(name) + ".ics?token=" + url.QueryEscape(token)
}

// onCallData is the on-call overview.
type onCallData struct {
	Enabled   bool
	Schedules []scheduleView
	Policies  []policyView
	People    []person
	Feeds     bool // calendar feeds are on
	Zone      *time.Location
}

func (u *UI) onCallPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	data := &onCallData{Zone: u.zone(p)}
	if u.OnCall == nil || len(u.OnCall.Directory().Schedules) == 0 {
		u.render(w, r, http.StatusOK, "oncall.html", view{Title: "On call", Nav: "oncall", User: p, Data: data})
		return
	}
	data.Enabled = true
	ctx := r.Context()
	now := u.Now()
	from := midnight(now, data.Zone)
	to := from.AddDate(0, 0, overviewDays)
	who, err := u.OnCall.OnCall(ctx, "", now)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	shifts, err := u.OnCall.Shifts(ctx, "", from, to)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	for _, oc := range who {
		var own []oncall.Shift
		for _, sh := range shifts {
			if sh.Schedule == oc.Schedule {
				own = append(own, sh)
			}
		}
		data.Schedules = append(data.Schedules, scheduleView{
			Name: oc.Schedule, Now: oc.Now, Next: oc.Next, FeedURL: u.feedURL(feedSchedule, oc.Schedule),
			Days: calendar(own, from, overviewDays, now, data.Zone), Zone: data.Zone,
		})
	}
	dir := u.OnCall.Directory()
	data.Policies = policyViews(dir, "")
	data.Feeds = u.OnCall.FeedToken(feedUser, "") != ""
	for _, name := range slices.Sorted(maps.Keys(dir.Users)) {
		pr := person{Name: name, FeedURL: u.feedURL(feedUser, name)}
		if z := dir.Users[name].TimeZone; z != nil {
			pr.Zone = z.String()
		}
		data.People = append(data.People, pr)
	}
	u.render(w, r, http.StatusOK, "oncall.html", view{Title: "On call", Nav: "oncall", User: p, Live: true, Data: data})
}

// scheduleData is one schedule's page.
type scheduleData struct {
	Schedule  scheduleView
	Days      int
	PrevURL   string
	NextURL   string
	Overrides []klaxon.Override
	Policies  []policyView
	Users     []string
	Zone      *time.Location
	Now       time.Time
	typed     typedForm
}

// Typed is what was typed into form's field before it failed.
func (d *scheduleData) Typed(form, field string) string { return d.typed.value(form, field) }

// StartValue is the add-override form's start: as typed, else now.
func (d *scheduleData) StartValue() string {
	if v := d.typed.value("override", "start"); v != "" {
		return v
	}
	return d.Now.In(d.Zone).Format(localTimeLayout)
}

func (u *UI) schedulePage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if u.OnCall == nil {
		u.fail(w, r, p, klaxon.Errorf(klaxon.ENOTFOUND, "no schedules are configured"))
		return
	}
	u.showSchedule(w, r, p, r.PathValue("schedule"), http.StatusOK, "", typedForm{})
}

// showSchedule renders a schedule's page; problem and typed come from an
// override form that failed.
func (u *UI) showSchedule(w http.ResponseWriter, r *http.Request, p *auth.Principal, name string, status int, problem string, typed typedForm) {
	ctx := r.Context()
	zone, now := u.zone(p), u.Now()
	from, days, err := scheduleRange(r.URL.Query(), now, zone)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	to := from.AddDate(0, 0, days)
	who, err := u.OnCall.OnCall(ctx, name, now)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	shifts, err := u.OnCall.Shifts(ctx, name, from, to)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	until := now.Add(overridesAhead)
	if to.After(until) {
		until = to
	}
	overrides, err := u.OnCall.Overrides(ctx, name, now, until)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	dir := u.OnCall.Directory()
	page := func(start time.Time) string {
		return fmt.Sprintf("/oncall/%s?from=%s&days=%d", url.PathEscape(name), start.Format(dateLayout), days)
	}
	data := &scheduleData{
		Schedule: scheduleView{
			Name: name, Now: who[0].Now, Next: who[0].Next, FeedURL: u.feedURL(feedSchedule, name),
			Days: calendar(shifts, from, days, now, zone), Zone: zone,
		},
		Days:      days,
		PrevURL:   page(from.AddDate(0, 0, -days)),
		NextURL:   page(to),
		Overrides: overrides,
		Policies:  policyViews(dir, name),
		Users:     slices.Sorted(maps.Keys(dir.Users)),
		Zone:      zone,
		Now:       now,
		typed:     typed,
	}
	u.render(w, r, status, "schedule.html", view{Title: "On call: " + name, Nav: "oncall", User: p, Live: true, Error: problem, Data: data})
}

// scheduleRange reads ?from= (a date in zone; default today) and ?days=.
func scheduleRange(q url.Values, now time.Time, zone *time.Location) (from time.Time, days int, err error) {
	from, days = midnight(now, zone), scheduleDays
	if v := q.Get("from"); v != "" {
		t, err := time.ParseInLocation(dateLayout, v, zone)
		if err != nil {
			return from, days, klaxon.Errorf(klaxon.EINVALID, "from: got %q, want a date like %s", v, now.In(zone).Format(dateLayout))
		}
		from = t
	}
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxScheduleDays {
			return from, days, klaxon.Errorf(klaxon.EINVALID, "days: got %q, want a number from 1 to %d", v, maxScheduleDays)
		}
		days = n
	}
	return from, days, nil
}

// addOverride puts someone on call for a while from the schedule page's
// form; its times are wall-clock times in the viewer's zone.
func (u *UI) addOverride(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if u.OnCall == nil {
		u.fail(w, r, p, klaxon.Errorf(klaxon.ENOTFOUND, "no schedules are configured"))
		return
	}
	schedule := r.PostFormValue("schedule")
	o, err := overrideForm(r, u.zone(p))
	o.CreatedBy = p.Name
	var added *klaxon.Override
	if err == nil {
		added, err = u.OnCall.AddOverride(r.Context(), o)
	}
	if err != nil {
		status, ok := formProblem(err)
		if _, known := u.OnCall.Directory().Schedules[schedule]; !ok || !known {
			u.fail(w, r, p, err)
			return
		}
		u.showSchedule(w, r, p, schedule, status, klaxon.ErrorMessage(err), typedForm{"override", r.PostForm})
		return
	}
	zone := u.zone(p)
	u.done(w, r, "/oncall/"+url.PathEscape(added.Schedule), fmt.Sprintf("%s is on call for %s from %s until %s.",
		added.User, added.Schedule, added.Start.In(zone).Format(shiftLayout), added.End.In(zone).Format(shiftLayout)))
}

// overrideForm reads the add-override form, naming every field at fault.
func overrideForm(r *http.Request, zone *time.Location) (klaxon.Override, error) {
	o := klaxon.Override{
		Schedule: r.PostFormValue("schedule"),
		User:     r.PostFormValue("user"),
		Replaces: r.PostFormValue("replaces"),
	}
	var problems []string
	if o.Schedule == "" {
		problems = append(problems, "schedule: choose one")
	}
	if o.User == "" {
		problems = append(problems, "who: choose the person to put on call")
	}
	for _, f := range []struct {
		name string
		at   *time.Time
	}{{"start", &o.Start}, {"end", &o.End}} {
		v := strings.TrimSpace(r.PostFormValue(f.name))
		t, err := parseLocalTime(v, zone)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: got %q, want a date and time like 2026-03-10T09:00", f.name, v))
		}
		*f.at = t
	}
	if len(problems) > 0 {
		return o, &klaxon.Error{Code: klaxon.EINVALID, Message: strings.Join(problems, "; "), Problems: problems}
	}
	return o, nil
}

// parseLocalTime reads a datetime-local value, with or without seconds,
// as a wall-clock time in zone.
func parseLocalTime(v string, zone *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(localTimeLayout, v, zone)
	if err != nil {
		t, err = time.ParseInLocation(localTimeLayout+":05", v, zone)
	}
	return t, err
}

func (u *UI) removeOverride(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if u.OnCall == nil {
		u.fail(w, r, p, klaxon.Errorf(klaxon.ENOTFOUND, "no schedules are configured"))
		return
	}
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		u.fail(w, r, p, klaxon.Errorf(klaxon.ENOTFOUND, "no override %q", v))
		return
	}
	removed, err := u.OnCall.RemoveOverride(r.Context(), id, p.Name)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	u.done(w, r, "/oncall/"+url.PathEscape(removed.Schedule), fmt.Sprintf("Removed the override putting %s on call for %s.", removed.User, removed.Schedule))
}
