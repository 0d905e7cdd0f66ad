package incident

import (
	"context"

	"github.com/klaxon-oss/klaxon"
)

// The methods below are what the API, the CLI (through the API) and the
// chat commands call. Every change is recorded on the timeline with actor.

// New returns a Service.
func New(store klaxon.Store, opts Options) *Service { panic("TODO") }

// LevelName is a level's incident name, e.g. "SEV1".
func (s *Service) LevelName(l klaxon.Level) string { panic("TODO") }

// ParseLevel reads a typed severity: "sev1", "SEV1", "1" (SEV1) or an alert
// name ("P0"). EINVALID names the levels there are.
func (s *Service) ParseLevel(word string) (klaxon.Level, error) { panic("TODO") }

// Declare opens an incident. EINVALID for a missing service or summary, an
// unknown alert (ENOTFOUND), an unknown commander.
func (s *Service) Declare(ctx context.Context, d Declaration) (*klaxon.Incident, error) {
	panic("TODO")
}

// Incident returns one incident, ENOTFOUND naming what is open.
func (s *Service) Incident(ctx context.Context, id int64) (*klaxon.Incident, error) { panic("TODO") }

// Incidents lists incidents, newest first.
func (s *Service) Incidents(ctx context.Context, f klaxon.IncidentFilter) ([]*klaxon.Incident, error) {
	panic("TODO")
}

// Timeline is the incident's timeline merged with its linked alerts'
// histories, oldest first.
func (s *Service) Timeline(ctx context.Context, id int64) ([]klaxon.TimelineEntry, error) {
	panic("TODO")
}

// PostUpdate posts a status update (and changes the status if u.Status is set).
func (s *Service) PostUpdate(ctx context.Context, id int64, actor string, u Update) (*klaxon.Incident, error) {
	panic("TODO")
}

// SetStatus changes the status without other text; resolved is refused
// (use Resolve).
func (s *Service) SetStatus(ctx context.Context, id int64, actor string, st klaxon.IncidentStatus) (*klaxon.Incident, error) {
	panic("TODO")
}

// SetLevel changes the severity.
func (s *Service) SetLevel(ctx context.Context, id int64, actor string, l klaxon.Level) (*klaxon.Incident, error) {
	panic("TODO")
}

// SetRole gives person (a configured user's name or chat identity, or
// "me" for actor) a role; a responder is added to the responders.
// EINVALID lists the known people for an unknown one.
func (s *Service) SetRole(ctx context.Context, id int64, actor string, role Role, person string) (*klaxon.Incident, error) {
	panic("TODO")
}

// Check ticks (done) or unticks checklist item n, counted from 1.
func (s *Service) Check(ctx context.Context, id int64, actor string, n int, done bool) (*klaxon.Incident, error) {
	panic("TODO")
}

// Note adds a note to the timeline.
func (s *Service) Note(ctx context.Context, id int64, actor, text string) (*klaxon.Incident, error) {
	panic("TODO")
}

// LinkAlert links an alert to the incident.
func (s *Service) LinkAlert(ctx context.Context, id int64, actor string, alertID int64) (*klaxon.Incident, error) {
	panic("TODO")
}

// Resolve closes the incident. Root cause, fix and impact are all
// required (EINVALID says which are missing).
func (s *Service) Resolve(ctx context.Context, id int64, actor string, c Closure) (*klaxon.Incident, error) {
	panic("TODO")
}

// AddAction adds a follow-up action item.
func (s *Service) AddAction(ctx context.Context, id int64, actor, text, owner string) (*klaxon.ActionItem, error) {
	panic("TODO")
}

// CompleteAction marks an action item done.
func (s *Service) CompleteAction(ctx context.Context, actionID int64, actor string) (*klaxon.ActionItem, error) {
	panic("TODO")
}

// Actions lists action items.
func (s *Service) Actions(ctx context.Context, f klaxon.ActionFilter) ([]klaxon.ActionItem, error) {
	panic("TODO")
}

// PostmortemDone marks the postmortem written: its reminders stop.
func (s *Service) PostmortemDone(ctx context.Context, id int64, actor string) (*klaxon.Incident, error) {
	panic("TODO")
}

// Postmortem renders the incident's postmortem draft as Markdown.
func (s *Service) Postmortem(ctx context.Context, id int64) ([]byte, error) { panic("TODO") }
