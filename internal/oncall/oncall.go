// Package oncall knows who is on call: users, schedules made of rotations
// (later rotations win for the hours they cover), overrides, escalation
// policies and ack deadlines. Schedules are computed, never stored: shifts
// follow from the configuration and the overrides, for any time, in any
// time zone, across daylight-saving changes.
//
// Hand-offs are on the local wall clock of the rotation's time zone: a
// daily rotation handing off at 09:00 hands off at 09:00 on both sides of a
// DST change, so the shift across the change is 23 or 25 hours long. Every
// shift length is counted this way (a 12h rotation handing off at 09:00
// hands off at 09:00 and 21:00 local time).
package oncall

import (
	"time"

	"github.com/klaxon-oss/klaxon"
)

// Window is a weekly span a rotation covers, in its time zone.
type Window struct {
	Days  [7]bool // the days the window starts on, by time.Weekday
	Start int     // minutes after local midnight
	End   int     // minutes after local midnight; at or before Start: past midnight
}

// Rotation hands a shift from one participant to the next.
type Rotation struct {
	Name         string
	Participants []string      // user names, in order; the first has the shift starting at Start
	Length       time.Duration // counted on the local wall clock (24h is one calendar day)
	Start        time.Time     // the first hand-off, in Location
	Location     *time.Location
	Hours        []Window // when the rotation covers; none: always
}

// Schedule is a set of rotations, the later ones winning for the hours
// they cover, with overrides on top.
type Schedule struct {
	Name      string
	Location  *time.Location
	Rotations []Rotation
	Overrides []klaxon.Override // from configuration; stored ones are passed in
	Handoff   string            // channel that hears of hand-offs, or ""
}

// Shift is a span of time one user is on call for a schedule.
type Shift struct {
	Schedule string           `json:"schedule"`
	User     string           `json:"user"`
	Start    time.Time        `json:"start"`
	End      time.Time        `json:"end"`
	Rotation string           `json:"rotation,omitempty"` // "" when an override
	Override *klaxon.Override `json:"override,omitempty"`
}

// Target is who an escalation step calls (see config.Target).
type Target struct {
	Schedule string
	User     string
	Channel  string
}

// Step is one step of an escalation policy.
type Step struct {
	// After is the wait after the previous step (for the first step,
	// after the group begins firing); nil: the severity's ack deadline
	// (0 for the first step).
	After   *time.Duration
	Targets []Target
}

// Policy is an escalation policy.
type Policy struct {
	Name   string
	Steps  []Step
	Repeat int // times the steps run again after the last one
}

// Deadline is how long an unacknowledged group waits before its next
// escalation step: a fixed duration, the next business day, or never.
type Deadline struct {
	After           time.Duration
	NextBusinessDay bool
	None            bool
}

// BusinessHours define when a business day starts.
type BusinessHours struct {
	Location *time.Location
	Days     [7]bool
	Start    int // minutes after local midnight
}

// Directory is the on-call configuration, compiled and validated.
type Directory struct {
	Users     map[string]klaxon.User
	Schedules map[string]*Schedule
	Policies  map[string]*Policy
	// Deadlines are the ack deadlines by level (index = klaxon.Level);
	// a level past the end has none.
	Deadlines []Deadline
	Business  BusinessHours
}
