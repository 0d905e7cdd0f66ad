package oncall

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
)

// defaultHandoff is the local time of a rotation's hand-off unless set.
const defaultHandoff = "09:00"

// positionalDeadlines are the ack deadlines of levels whose names have
// none configured or by default, by position: 15m, 1h, next business day,
// then none.
var positionalDeadlines = []Deadline{
	{After: 15 * time.Minute},
	{After: time.Hour},
	{NextBusinessDay: true},
}

// Compile turns a validated configuration into a Directory. levels names
// the severity ladder, most severe first (nil: config.DefaultLevelNames).
// Bad values still come back as errors naming their key, all of them.
func Compile(cfg *config.Config, levels []string) (*Directory, error) {
	if levels == nil {
		levels = config.DefaultLevelNames
	}
	c := &compiler{dir: &Directory{
		Users:     map[string]klaxon.User{},
		Schedules: map[string]*Schedule{},
		Policies:  map[string]*Policy{},
	}}
	c.users(cfg.Users)
	for i, sc := range cfg.Schedules {
		c.schedule(fmt.Sprintf("schedules[%d]", i), sc)
	}
	for i, p := range cfg.EscalationPolicies {
		c.policy(fmt.Sprintf("escalation_policies[%d]", i), p)
	}
	c.deadlines(cfg.Severity.AckDeadlines, levels)
	c.business(cfg.BusinessHours)
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	return c.dir, nil
}

// compiler collects every problem instead of stopping at the first.
type compiler struct {
	dir  *Directory
	errs []error
}

func (c *compiler) addf(key, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (c *compiler) users(users []config.User) {
	for i, u := range users {
		key := fmt.Sprintf("users[%d]", i)
		if u.Name == "" {
			c.addf(key+".name", "missing")
			continue
		}
		if _, dup := c.dir.Users[u.Name]; dup {
			c.addf(key+".name", "%q is used twice", u.Name)
		}
		loc, err := config.LoadLocation(u.TimeZone)
		if err != nil {
			c.addf(key+".time_zone", "%v", err)
			loc = time.UTC
		}
		c.dir.Users[u.Name] = klaxon.User{
			Name: u.Name, Matrix: u.Matrix, Slack: u.Slack, GoogleChat: u.GoogleChat,
			Email: u.Email, TimeZone: loc,
		}
	}
}

func (c *compiler) user(key, name string) {
	if _, ok := c.dir.Users[name]; !ok {
		c.addf(key, "no user %q", name)
	}
}

func (c *compiler) schedule(key string, sc config.Schedule) {
	if sc.Name == "" {
		c.addf(key+".name", "missing")
		return
	}
	if _, dup := c.dir.Schedules[sc.Name]; dup {
		c.addf(key+".name", "%q is used twice", sc.Name)
	}
	loc, err := config.LoadLocation(sc.TimeZone)
	if err != nil {
		c.addf(key+".time_zone", "%v", err)
		loc = time.UTC
	}
	s := &Schedule{Name: sc.Name, Location: loc, Handoff: sc.HandoffNotice}
	for i, r := range sc.Rotations {
		if rot, ok := c.rotation(fmt.Sprintf("%s.rotations[%d]", key, i), r, loc); ok {
			if rot.Name == "" {
				rot.Name = fmt.Sprintf("rotation-%d", i+1)
			}
			s.Rotations = append(s.Rotations, rot)
		}
	}
	for i, o := range sc.Overrides {
		okey := fmt.Sprintf("%s.overrides[%d]", key, i)
		c.user(okey+".user", o.User)
		if o.Replaces != "" {
			c.user(okey+".replaces", o.Replaces)
		}
		if !o.End.After(o.Start) {
			c.addf(okey+".end", "the override ends (%s) before it starts (%s)", o.End.Format(time.RFC3339), o.Start.Format(time.RFC3339))
		}
		s.Overrides = append(s.Overrides, klaxon.Override{
			Schedule: sc.Name, User: o.User, Replaces: o.Replaces, Start: o.Start, End: o.End,
		})
	}
	c.dir.Schedules[sc.Name] = s
}

func (c *compiler) rotation(key string, r config.Rotation, scheduleLoc *time.Location) (Rotation, bool) {
	n := len(c.errs)
	rot := Rotation{Name: r.Name, Participants: r.Participants, Location: scheduleLoc}
	if len(r.Participants) == 0 {
		c.addf(key+".participants", "missing")
	}
	for i, p := range r.Participants {
		c.user(fmt.Sprintf("%s.participants[%d]", key, i), p)
	}
	var err error
	if rot.Length, err = config.ParseShift(r.Shift); err != nil {
		c.addf(key+".shift", "%v", err)
	}
	if r.TimeZone != "" {
		if rot.Location, err = config.LoadLocation(r.TimeZone); err != nil {
			c.addf(key+".time_zone", "%v", err)
		}
	}
	handoff := r.Handoff
	if handoff == "" {
		handoff = defaultHandoff
	}
	clock, err := config.ParseClock(handoff)
	if err != nil {
		c.addf(key+".handoff", "%v", err)
	}
	y, m, d, err := config.ParseDate(r.Start)
	if err != nil {
		c.addf(key+".start", "%v", err)
	}
	for i, h := range r.Hours {
		if w, ok := c.window(fmt.Sprintf("%s.hours[%d]", key, i), h); ok {
			rot.Hours = append(rot.Hours, w)
		}
	}
	if len(c.errs) > n {
		return rot, false
	}
	rot.Start = time.Date(y, m, d, 0, clock, 0, 0, rot.Location)
	return rot, true
}

func (c *compiler) window(key string, h config.Hours) (Window, bool) {
	var w Window
	var err error
	n := len(c.errs)
	if w.Days, err = config.ParseDays(h.Days); err != nil {
		c.addf(key+".days", "%v", err)
	}
	if w.Start, err = config.ParseClock(h.From); err != nil {
		c.addf(key+".from", "%v", err)
	}
	if w.End, err = config.ParseClock(h.To); err != nil {
		c.addf(key+".to", "%v", err)
	}
	return w, len(c.errs) == n
}

func (c *compiler) policy(key string, p config.EscalationPolicy) {
	if p.Name == "" {
		c.addf(key+".name", "missing")
		return
	}
	if _, dup := c.dir.Policies[p.Name]; dup {
		c.addf(key+".name", "%q is used twice", p.Name)
	}
	if p.Repeat < 0 {
		c.addf(key+".repeat", "must not be negative (got %d)", p.Repeat)
	}
	pol := &Policy{Name: p.Name, Repeat: p.Repeat}
	for i, st := range p.Steps {
		skey := fmt.Sprintf("%s.steps[%d]", key, i)
		var step Step
		if st.After != nil {
			if *st.After < 0 {
				c.addf(skey+".after", "must not be negative (got %s)", *st.After)
			}
			after := *st.After // a copy: the directory shares nothing with the config
			step.After = &after
		}
		if len(st.Targets) == 0 {
			c.addf(skey+".targets", "missing")
		}
		for j, t := range st.Targets {
			tkey := fmt.Sprintf("%s.targets[%d]", skey, j)
			switch {
			case t.Schedule == "" && t.User == "" && t.Channel == "":
				c.addf(tkey, "want a schedule, a user or a channel")
			}
			if _, ok := c.dir.Schedules[t.Schedule]; t.Schedule != "" && !ok {
				c.addf(tkey+".schedule", "no schedule %q", t.Schedule)
			}
			if t.User != "" {
				c.user(tkey+".user", t.User)
			}
			step.Targets = append(step.Targets, Target(t))
		}
		pol.Steps = append(pol.Steps, step)
	}
	c.dir.Policies[p.Name] = pol
}

func (c *compiler) deadlines(configured map[string]string, levels []string) {
	known := map[string]bool{}
	for i, name := range levels {
		known[name] = true
		s, ok := configured[name]
		if !ok {
			s, ok = config.DefaultAckDeadlines[name]
		}
		if !ok {
			c.dir.Deadlines = append(c.dir.Deadlines, positional(i))
			continue
		}
		after, word, err := config.ParseDeadline(s)
		if err != nil {
			c.addf("severity.ack_deadlines."+name, "%v", err)
		}
		c.dir.Deadlines = append(c.dir.Deadlines, Deadline{
			After:           after,
			NextBusinessDay: word == config.DeadlineNextBusinessDay,
			None:            word == config.DeadlineNone,
		})
	}
	for _, name := range slices.Sorted(maps.Keys(configured)) {
		if !known[name] {
			c.addf("severity.ack_deadlines."+name, "%q is not a severity level (levels: %s)", name, joinNames(levels))
		}
	}
}

func positional(i int) Deadline {
	if i < len(positionalDeadlines) {
		return positionalDeadlines[i]
	}
	return Deadline{None: true}
}

func (c *compiler) business(b config.BusinessHours) {
	loc, err := config.LoadLocation(b.TimeZone)
	if err != nil {
		c.addf("business_hours.time_zone", "%v", err)
	}
	c.dir.Business = BusinessHours{Location: loc, Days: weekdays}
	if len(b.Days) > 0 {
		if c.dir.Business.Days, err = config.ParseDays(b.Days); err != nil {
			c.addf("business_hours.days", "%v", err)
		}
	}
	start := b.Start
	if start == "" {
		start = defaultHandoff
	}
	if c.dir.Business.Start, err = config.ParseClock(start); err != nil {
		c.addf("business_hours.start", "%v", err)
	}
}
