package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	// Time zones must load where the system has no zoneinfo (a scratch or
	// distroless image): schedules depend on them.
	_ "time/tzdata"
)

// User is a person Klaxon can call, with their identity on each platform.
type User struct {
	Name       string `yaml:"name"`
	Matrix     string `yaml:"matrix"`      // @alice:example.org
	Slack      string `yaml:"slack"`       // U0123ALICE
	GoogleChat string `yaml:"google_chat"` // users/123456789
	Email      string `yaml:"email"`
	TimeZone   string `yaml:"time_zone"` // IANA name; default UTC
}

// Schedule says who is on call when: rotations, the later ones winning for
// the hours they cover, and overrides on top.
type Schedule struct {
	Name     string `yaml:"name"`
	TimeZone string `yaml:"time_zone"` // default for its rotations; default UTC
	// HandoffNotice names a channel that hears of each hand-off.
	HandoffNotice string     `yaml:"handoff_notice"`
	Rotations     []Rotation `yaml:"rotations"`
	Overrides     []Override `yaml:"overrides"`
}

// Rotation hands a shift from one participant to the next.
type Rotation struct {
	Name         string   `yaml:"name"`
	Participants []string `yaml:"participants"` // user names, in order
	Shift        string   `yaml:"shift"`        // daily, weekly or a duration (12h, 72h)
	Handoff      string   `yaml:"handoff"`      // local time of the hand-off, "09:00" by default
	Start        string   `yaml:"start"`        // date of the first hand-off, YYYY-MM-DD, to participants[0]
	TimeZone     string   `yaml:"time_zone"`    // default the schedule's
	Hours        []Hours  `yaml:"hours"`        // only these hours; default all
}

// Hours is a weekly window a rotation covers.
type Hours struct {
	Days StringList `yaml:"days"` // mon, tue… or ranges (mon-fri); default every day
	From string     `yaml:"from"` // "09:00"
	To   string     `yaml:"to"`   // "17:00"; at or before From: past midnight
}

// Override puts User on call in place of whoever the rotations say (or only
// in place of Replaces) from Start to End.
type Override struct {
	User     string    `yaml:"user"`
	Replaces string    `yaml:"replaces"`
	Start    time.Time `yaml:"start"` // RFC 3339: 2026-12-24T09:00:00+01:00
	End      time.Time `yaml:"end"`
}

// EscalationPolicy is what happens to a group nobody acknowledges: its
// steps in order, each after the previous one's deadline, the whole run
// Repeat more times.
type EscalationPolicy struct {
	Name   string           `yaml:"name"`
	Repeat int              `yaml:"repeat"`
	Steps  []EscalationStep `yaml:"steps"`
}

// EscalationStep notifies its targets After the previous step (the first
// step: after the group begins firing). Without After, the wait is the
// severity's ack deadline (0 for the first step).
type EscalationStep struct {
	After   *time.Duration `yaml:"after"`
	Targets []Target       `yaml:"targets"`
}

// Target is who a step calls: the on-call of a schedule or a user,
// mentioned in the group's chat channels, or in Channel if set; or a
// Channel alone (a room, or PagerDuty).
type Target struct {
	Schedule string `yaml:"schedule"`
	User     string `yaml:"user"`
	Channel  string `yaml:"channel"`
}

// BusinessHours define "next business day", the default P2 ack deadline.
type BusinessHours struct {
	TimeZone string     `yaml:"time_zone"` // default UTC
	Days     StringList `yaml:"days"`      // default mon-fri
	Start    string     `yaml:"start"`     // default "09:00"
}

// Calendar configures the iCalendar feeds of schedules and users.
type Calendar struct {
	// Secret signs feed URLs, which calendar apps fetch without other
	// credentials. Without it there are no feeds.
	Secret Secret `yaml:"secret"`
}

// Ack deadline words.
const (
	DeadlineNone            = "none"
	DeadlineNextBusinessDay = "next_business_day"
)

// DefaultAckDeadlines are the seeds' deadlines, by default level name.
var DefaultAckDeadlines = map[string]string{
	"P0": "15m",
	"P1": "1h",
	"P2": DeadlineNextBusinessDay,
	"P3": DeadlineNone,
}

// ParseDeadline reads an ack deadline: a duration, next_business_day or
// none. It returns the duration (0 for the words) and the word ("" for a
// duration).
func ParseDeadline(s string) (time.Duration, string, error) {
	switch s {
	case DeadlineNone, DeadlineNextBusinessDay:
		return 0, s, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, "", fmt.Errorf("%q: want a positive duration (15m), %s or %s", s, DeadlineNextBusinessDay, DeadlineNone)
	}
	return d, "", nil
}

// ParseShift reads a shift length: daily, weekly or a positive duration.
func ParseShift(s string) (time.Duration, error) {
	switch s {
	case "daily":
		return 24 * time.Hour, nil
	case "weekly":
		return 7 * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q: want daily, weekly or a duration (12h, 72h)", s)
	case d <= 0:
		// A zero shift would hand off forever without moving on.
		return 0, fmt.Errorf("%q: a shift must be longer than zero (daily, weekly, 12h…)", s)
	case d < time.Minute || d%time.Minute != 0:
		return 0, fmt.Errorf("%q: want a whole number of minutes, at least 1m (12h, 72h)", s)
	}
	return d, nil
}

// ParseClock reads a local time of day, "09:00", as minutes after midnight.
func ParseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	// Atoi alone would take signs ("+9:00", "-0:00") and any number of
	// leading zeros.
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || !digits(h) || !digits(m) || len(h) > 2 || len(m) != 2 || hh > 23 || mm > 59 {
		return 0, fmt.Errorf("%q: want a time of day, HH:MM (09:00)", s)
	}
	return hh*60 + mm, nil
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseDays reads days of the week (mon, tue…, ranges such as mon-fri or
// fri-mon) into a set indexed by time.Weekday. An empty list is every day.
func ParseDays(list []string) ([7]bool, error) {
	var set [7]bool
	if len(list) == 0 {
		return [7]bool{true, true, true, true, true, true, true}, nil
	}
	for _, item := range list {
		for _, part := range strings.Split(item, ",") {
			part = strings.ToLower(strings.TrimSpace(part))
			from, to, isRange := strings.Cut(part, "-")
			from, to = strings.TrimSpace(from), strings.TrimSpace(to) // "mon - fri"
			f, ok1 := weekdays[from]
			t, ok2 := weekdays[to]
			if !isRange {
				t, ok2 = f, ok1
			}
			if !ok1 || !ok2 {
				return set, fmt.Errorf("%q: want days as mon, tue, wed, thu, fri, sat, sun or a range (mon-fri)", part)
			}
			for d := f; ; d = (d + 1) % 7 {
				set[d] = true
				if d == t {
					break
				}
			}
		}
	}
	return set, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// ParseDate reads a rotation's start date, YYYY-MM-DD.
func ParseDate(s string) (y int, m time.Month, d int, err error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%q: want a date, YYYY-MM-DD", s)
	}
	return t.Year(), t.Month(), t.Day(), nil
}

// LoadLocation reads an IANA time zone name; "" is UTC.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, fmt.Errorf("%q is not a time zone (want an IANA name such as Europe/Berlin)", name)
	}
	return loc, nil
}
