// Package incident runs incidents: declared from chat, the CLI or the API
// (or promoted from an alert), run with roles, timed status updates, a
// checklist and a timeline, closed with a summary and a postmortem draft.
// Every change writes the incident, its timeline entry and the durable jobs
// it causes (posts, reminders, escalation) in one transaction.
package incident

import (
	"log/slog"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// Options configures a Service.
type Options struct {
	Config   *config.Config // incidents, status page, severity
	Severity klaxon.SeverityPolicy
	OnCall   *oncall.Service // never nil in a running app
	Channels map[string]notify.Channel
	BaseURL  string
	Logger   *slog.Logger
	Now      func() time.Time
}

// Service runs incidents.
type Service struct {
	store    klaxon.Store
	cfg      config.Incidents
	severity klaxon.SeverityPolicy
	oncall   *oncall.Service
	channels map[string]notify.Channel
	baseURL  string
	log      *slog.Logger
	now      func() time.Time
}

// Role is a part a person plays in an incident.
type Role string

// Roles.
const (
	RoleCommander Role = "commander"
	RoleComms     Role = "comms_lead"
	RoleResponder Role = "responder"
)

// Declaration is what a person says to declare an incident.
type Declaration struct {
	Service string
	Summary string // what is happening
	// Level is the severity; nil: the Assessment's suggestion (SEV2 without
	// one).
	Level      *klaxon.Level
	Assessment *Assessment
	Reporter   string
	// Commander is who runs it; "" makes the reporter commander until the
	// role is handed over.
	Commander string
	AlertID   int64 // promote this alert: it is linked, and its start is the detection time
	Room      *bool // open a room; nil: if incidents.rooms is set
	Public    *bool // on the status page; nil: if the service maps to a component
}

// Update is a status update.
type Update struct {
	Text   string
	Public bool                  // also on the status page
	Status klaxon.IncidentStatus // "" keeps the status
}

// Closure is what resolve records.
type Closure struct {
	RootCause string
	Fix       string
	Impact    string
}
