package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// DefaultHandoff is a rotation's hand-off time when it names none.
const DefaultHandoff = "09:00"

// channelTypePagerDuty is the channel type that pages a service: it takes
// no mentions and posts no chat messages.
const channelTypePagerDuty = "pagerduty"

// maxRepeat bounds an escalation policy's repeats: past a few rounds more
// pages only add noise.
const maxRepeat = 10

func (c *Config) setOncallDefaults() {
	for i := range c.Schedules {
		for j := range c.Schedules[i].Rotations {
			if r := &c.Schedules[i].Rotations[j]; r.Handoff == "" {
				r.Handoff = DefaultHandoff
			}
		}
	}
}

// validateOncall checks users, schedules, escalation policies, ack
// deadlines, business hours and the calendar secret. Routes' escalation
// names are checked with the routes.
func (c *Config) validateOncall(d *doc) {
	users := c.validateUsers(d)
	channels := &known{what: "channel", plural: "channels", types: map[string]string{}}
	for _, ch := range c.Channels {
		channels.add(ch.Name)
		channels.types[ch.Name] = ch.Type
	}
	schedules := c.validateSchedules(d, users, channels)
	c.validatePolicies(d, users, schedules, channels)
	c.Severity.validateAckDeadlines(d)
	c.BusinessHours.validate(d)
	if s := c.Calendar.Secret; s != "" && len(s) < minTokenLen {
		d.addf("calendar.secret", "too short (%d characters; use at least %d, e.g. `openssl rand -hex 16`)", len(s), minTokenLen)
	}
}

// known is the set of names a reference may use; a bad reference's error
// lists them, so a typo is easy to spot.
type known struct {
	what, plural string
	names        []string
	types        map[string]string // channels only: name → type
}

func (k *known) add(name string) {
	if name != "" && !slices.Contains(k.names, name) {
		k.names = append(k.names, name)
	}
}

// refer reports whether name is known, adding a problem at key if not.
func (k *known) refer(d *doc, key, name string) bool {
	switch {
	case name == "":
		d.addf(key, "missing: name one of the %s (%s)", k.plural, k.list())
	case !slices.Contains(k.names, name):
		d.addf(key, "no %s %q (%s: %s)", k.what, name, k.plural, k.list())
	default:
		return true
	}
	return false
}

// maxListed keeps an error short in a large configuration.
const maxListed = 10

func (k *known) list() string {
	switch n := len(k.names); {
	case n == 0:
		return "none configured"
	case n > maxListed:
		return fmt.Sprintf("%s and %d more", strings.Join(k.names[:maxListed], ", "), n-maxListed)
	}
	return strings.Join(k.names, ", ")
}

func (c *Config) policyNames() *known {
	k := &known{what: "escalation policy", plural: "policies"}
	for _, p := range c.EscalationPolicies {
		k.add(p.Name)
	}
	return k
}

// identity is one kind of platform ID a user may have.
type identity struct {
	key  string // the User field's YAML key
	re   *regexp.Regexp
	want string
}

var identities = []identity{
	{"matrix", regexp.MustCompile(`^@[\x21-\x39\x3b-\x7e]+:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$`),
		"a Matrix user ID, @localpart:server (@alice:example.org)"},
	{"slack", regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`),
		"a Slack member ID: U or W, then upper-case letters and digits (U0123ALICE)"},
	{"google_chat", regexp.MustCompile(`^users/[^/\s]+$`),
		"a Google Chat user, users/ID (users/123456789)"},
	{"email", regexp.MustCompile(`^[^@\s]+@[^@\s]+$`),
		"an email address with one @ (alice@example.org)"},
}

func (u User) identity(key string) string {
	switch key {
	case "matrix":
		return u.Matrix
	case "slack":
		return u.Slack
	case "google_chat":
		return u.GoogleChat
	}
	return u.Email
}

func (c *Config) validateUsers(d *doc) *known {
	users := &known{what: "user", plural: "users"}
	names := map[string]bool{}
	owners := map[string]string{} // identity → who has it, for the error
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		d.checkName(key+".name", u.Name, names)
		users.add(u.Name)
		d.timeZone(key+".time_zone", u.TimeZone)
		owner := u.Name
		if owner == "" {
			owner = key
		}
		for _, id := range identities {
			v := u.identity(id.key)
			if v == "" {
				continue
			}
			if !id.re.MatchString(v) {
				d.addf(key+"."+id.key, "%q: want %s", v, id.want)
				continue
			}
			// Chat IDs are matched exactly; email addresses are not
			// case-sensitive in practice.
			norm := v
			if id.key == "email" {
				norm = strings.ToLower(v)
			}
			if other, ok := owners[norm]; ok {
				d.addf(key+"."+id.key, "%q is already %s's: an ack from chat must map to one person", v, other)
				continue
			}
			owners[norm] = owner
		}
	}
	return users
}

func (c *Config) validateSchedules(d *doc, users, channels *known) *known {
	schedules := &known{what: "schedule", plural: "schedules"}
	names := map[string]bool{}
	for i := range c.Schedules {
		s := &c.Schedules[i]
		key := fmt.Sprintf("schedules[%d]", i)
		d.checkName(key+".name", s.Name, names)
		schedules.add(s.Name)
		d.timeZone(key+".time_zone", s.TimeZone)
		if s.HandoffNotice != "" && channels.refer(d, key+".handoff_notice", s.HandoffNotice) &&
			channels.types[s.HandoffNotice] == channelTypePagerDuty {
			d.addf(key+".handoff_notice", "%q is a pagerduty channel; hand-off notices are chat posts: name a chat channel", s.HandoffNotice)
		}
		if len(s.Rotations) == 0 {
			d.addf(key+".rotations", "a schedule needs at least one rotation")
		}
		rotations := map[string]bool{}
		for j := range s.Rotations {
			s.Rotations[j].validate(d, fmt.Sprintf("%s.rotations[%d]", key, j), users, rotations)
		}
		for j := range s.Overrides {
			s.Overrides[j].validate(d, fmt.Sprintf("%s.overrides[%d]", key, j), users)
		}
	}
	return schedules
}

func (r *Rotation) validate(d *doc, key string, users *known, names map[string]bool) {
	if r.Name != "" { // optional: shown in shifts and messages
		d.checkName(key+".name", r.Name, names)
	}
	if len(r.Participants) == 0 {
		d.addf(key+".participants", "a rotation with no participants: list the users who take turns")
	}
	for i, p := range r.Participants {
		users.refer(d, fmt.Sprintf("%s.participants[%d]", key, i), p)
	}
	if r.Shift == "" {
		d.addf(key+".shift", "missing: want daily, weekly or a duration (12h, 72h)")
	} else if _, err := ParseShift(r.Shift); err != nil {
		d.addf(key+".shift", "%v", err)
	}
	d.clock(key+".handoff", r.Handoff)
	if r.Start == "" {
		d.addf(key+".start", "missing: want the date of the first hand-off, YYYY-MM-DD")
	} else if _, _, _, err := ParseDate(r.Start); err != nil {
		d.addf(key+".start", "%v", err)
	}
	d.timeZone(key+".time_zone", r.TimeZone)
	for i, h := range r.Hours {
		hkey := fmt.Sprintf("%s.hours[%d]", key, i)
		d.days(hkey+".days", h.Days)
		from, okFrom := d.clock(hkey+".from", h.From)
		to, okTo := d.clock(hkey+".to", h.To)
		if okFrom && okTo && from == to {
			d.addf(hkey+".to", "%q is also from: the window would be empty (a to before from runs past midnight)", h.To)
		}
	}
}

func (o *Override) validate(d *doc, key string, users *known) {
	users.refer(d, key+".user", o.User)
	if o.Replaces != "" && users.refer(d, key+".replaces", o.Replaces) && o.Replaces == o.User {
		d.addf(key+".replaces", "%q would replace themselves", o.Replaces)
	}
	const want = "want a time with its offset, 2026-12-24T09:00:00+01:00"
	if o.Start.IsZero() {
		d.addf(key+".start", "missing: %s", want)
	}
	if o.End.IsZero() {
		d.addf(key+".end", "missing: %s", want)
	}
	switch {
	case o.Start.IsZero() || o.End.IsZero():
	case o.End.Before(o.Start):
		d.addf(key+".end", "%s: the override ends before it starts (%s)", o.End.Format(time.RFC3339), o.Start.Format(time.RFC3339))
	case o.End.Equal(o.Start):
		d.addf(key+".end", "%s: the override ends as it starts (%s): it would cover nothing", o.End.Format(time.RFC3339), o.Start.Format(time.RFC3339))
	}
}

func (c *Config) validatePolicies(d *doc, users, schedules, channels *known) {
	names := map[string]bool{}
	for i, p := range c.EscalationPolicies {
		key := fmt.Sprintf("escalation_policies[%d]", i)
		d.checkName(key+".name", p.Name, names)
		if p.Repeat < 0 || p.Repeat > maxRepeat {
			d.addf(key+".repeat", "must be between 0 and %d (got %d)", maxRepeat, p.Repeat)
		}
		if len(p.Steps) == 0 {
			d.addf(key+".steps", "a policy needs at least one step")
		}
		for j, s := range p.Steps {
			skey := fmt.Sprintf("%s.steps[%d]", key, j)
			if s.After != nil && *s.After < 0 {
				d.addf(skey+".after", "must not be negative (got %s)", *s.After)
			}
			if len(s.Targets) == 0 {
				d.addf(skey+".targets", "a step needs at least one target: a schedule, user or channel")
			}
			for k, t := range s.Targets {
				t.validate(d, fmt.Sprintf("%s.targets[%d]", skey, k), users, schedules, channels)
			}
		}
	}
}

func (t Target) validate(d *doc, key string, users, schedules, channels *known) {
	if t.Schedule == "" && t.User == "" && t.Channel == "" {
		d.addf(key, "a target needs a schedule, a user or a channel")
		return
	}
	if t.Schedule != "" && t.User != "" {
		d.addf(key+".user", "a target calls a schedule's on-call or a user, not both (schedule %q): make two targets", t.Schedule)
	}
	if t.Schedule != "" {
		schedules.refer(d, key+".schedule", t.Schedule)
	}
	if t.User != "" {
		users.refer(d, key+".user", t.User)
	}
	if t.Channel != "" && channels.refer(d, key+".channel", t.Channel) &&
		channels.types[t.Channel] == channelTypePagerDuty && (t.Schedule != "" || t.User != "") {
		d.addf(key+".channel", "%q is a pagerduty channel, which pages a service and mentions no one: give it in a target of its own", t.Channel)
	}
}

// levelNames is the severity ladder: its levels' names, or the default's.
func (s *Severity) levelNames() []string {
	if len(s.Levels) == 0 {
		return DefaultLevelNames
	}
	names := make([]string, len(s.Levels))
	for i, l := range s.Levels {
		names[i] = l.Name
	}
	return names
}

func (s *Severity) validateAckDeadlines(d *doc) {
	levels := s.levelNames()
	keys := make([]string, 0, len(s.AckDeadlines))
	for k := range s.AckDeadlines {
		keys = append(keys, k)
	}
	// In ladder order, then unknown names: problems come out the same
	// every time.
	slices.SortFunc(keys, func(a, b string) int {
		ia, ib := slices.Index(levels, a), slices.Index(levels, b)
		if ia < 0 {
			ia = len(levels)
		}
		if ib < 0 {
			ib = len(levels)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	for _, level := range keys {
		key := "severity.ack_deadlines." + level
		if !slices.Contains(levels, level) {
			d.addf(key, "%q is not a level (levels: %s)", level, strings.Join(levels, ", "))
			continue
		}
		if _, _, err := ParseDeadline(s.AckDeadlines[level]); err != nil {
			d.addf(key, "%v", err)
		}
	}
}

func (b *BusinessHours) validate(d *doc) {
	d.timeZone("business_hours.time_zone", b.TimeZone)
	d.days("business_hours.days", b.Days)
	if b.Start != "" {
		d.clock("business_hours.start", b.Start)
	}
}

func (d *doc) timeZone(key, name string) {
	if _, err := LoadLocation(name); err != nil {
		d.addf(key, "%v", err)
	}
}

// clock reads a required time of day, reporting a problem at key.
func (d *doc) clock(key, s string) (int, bool) {
	if s == "" {
		d.addf(key, "missing: want a time of day, HH:MM (09:00)")
		return 0, false
	}
	m, err := ParseClock(s)
	if err != nil {
		d.addf(key, "%v", err)
		return 0, false
	}
	return m, true
}

// days checks a list of days item by item, so the problem names the
// item's line.
func (d *doc) days(key string, list StringList) {
	for i, item := range list {
		if _, err := ParseDays([]string{item}); err != nil {
			k := fmt.Sprintf("%s[%d]", key, i)
			if _, ok := d.lines[k]; !ok {
				k = key // written as one string: days: mon-fri
			}
			d.addf(k, "%v", err)
		}
	}
}
