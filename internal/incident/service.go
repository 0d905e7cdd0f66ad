// Package incident runs incidents: declared from chat, the CLI or the API
// (or promoted from an alert), run with roles, timed status updates, a
// checklist and a timeline, closed with a summary and a postmortem draft.
// Every change writes the incident, its timeline entry and the durable jobs
// it causes (posts, reminders, escalation) in one transaction.
package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
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
	// componentServices are the services the status page shows: an
	// incident about one of them is public unless declared private.
	componentServices []string
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

// roomKey is the idempotency key of an incident's room.
func roomKey(id int64) string { return fmt.Sprintf("klaxon-incident-%d", id) }

// errNotOpened makes a post for an incident room wait (with the job
// queue's backoff) until the room is open.
var errNotOpened = errors.New("the incident's room is not open yet")

func (s *Service) levelName(l klaxon.Level) string {
	if int(l) >= 0 && int(l) < len(s.cfg.Names) {
		return s.cfg.Names[l]
	}
	return fmt.Sprintf("SEV%d", l+1)
}

// cadence is how often a level's status updates are due; 0: no cadence.
func (s *Service) cadence(l klaxon.Level) time.Duration {
	return s.cfg.UpdateEvery[s.levelName(l)]
}

// postmortemDue is how long after resolution a level's postmortem is due;
// 0: none is required.
func (s *Service) postmortemDue(l klaxon.Level) time.Duration {
	return s.cfg.PostmortemDue[s.levelName(l)]
}

// openList names the open incidents, for a reply about a wrong one.
func (s *Service) openList(ctx context.Context) string {
	open, err := s.store.Incidents(ctx, klaxon.IncidentFilter{Open: true, Limit: maxListed + 1})
	if err != nil {
		return ""
	}
	if len(open) == 0 {
		return "No incident is open."
	}
	parts := make([]string, 0, len(open))
	for i, inc := range open {
		if i == maxListed {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("#%d %s (%s, %s)", inc.ID, inc.Title, s.levelName(inc.Level), inc.Status))
	}
	return "Open: " + strings.Join(parts, "; ") + "."
}

// maxListed bounds the incidents a reply lists.
const maxListed = 10

// change applies fn to an open incident in one transaction: the incident,
// the timeline entries fn returns and the jobs it queues commit together
// or not at all. A resolved or unknown incident is refused with what is
// open now.
func (s *Service) change(ctx context.Context, id int64, fn func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error)) (*klaxon.Incident, error) {
	return s.changeAny(ctx, id, false, fn)
}

func (s *Service) changeAny(ctx context.Context, id int64, resolvedToo bool, fn func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error)) (*klaxon.Incident, error) {
	var out *klaxon.Incident
	now := s.clock()
	wrong := "" // why the incident cannot be changed: the reply lists what is open
	err := s.store.Update(ctx, func(tx klaxon.Tx) error {
		inc, err := tx.IncidentForUpdate(ctx, id)
		if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
			wrong = fmt.Sprintf("no incident %d", id)
			return err
		}
		if err != nil {
			return err
		}
		if !inc.Open() && !resolvedToo {
			wrong = fmt.Sprintf("incident %d is resolved", id)
			return klaxon.Errorf(klaxon.EINVALID, "%s", wrong)
		}
		entries, err := fn(tx, inc, now)
		if err != nil {
			return err
		}
		for _, e := range entries {
			e.IncidentID, e.Status = inc.ID, inc.Status
			if e.At.IsZero() {
				e.At = now
			}
		}
		if err := tx.UpdateIncident(ctx, inc); err != nil {
			return err
		}
		if err := tx.AddTimeline(ctx, entries...); err != nil {
			return err
		}
		out = inc
		return nil
	})
	if wrong != "" {
		return nil, klaxon.Errorf(klaxon.ErrorCode(err), "%s. %s", wrong, s.openList(ctx))
	}
	return out, err
}

// post queues text on the incident's room (if it has one) and on the
// announce channels, mentioning users. key makes each post unique.
func (s *Service) post(ctx context.Context, tx klaxon.Tx, inc *klaxon.Incident, key, text string, users []string, announce bool, now time.Time) error {
	if inc.Room.Channel != "" {
		j := klaxon.IncidentPost{IncidentID: inc.ID, Channel: inc.Room.Channel, Key: key + "-room", Text: text, Users: users, InRoom: true}
		if err := tx.Enqueue(ctx, j, now); err != nil {
			return err
		}
	}
	if !announce && inc.Room.Channel != "" {
		return nil
	}
	for _, ch := range s.cfg.Announce {
		j := klaxon.IncidentPost{IncidentID: inc.ID, Channel: ch, Key: key + "-" + ch, Text: text, Users: users}
		if err := tx.Enqueue(ctx, j, now); err != nil {
			return err
		}
	}
	return nil
}

// scheduleUpdate sets when the next status update is due and queues its
// reminder; a level without a cadence has none.
func (s *Service) scheduleUpdate(ctx context.Context, tx klaxon.Tx, inc *klaxon.Incident, from time.Time) error {
	every := s.cadence(inc.Level)
	if every <= 0 || !inc.Open() {
		inc.NextUpdateAt = time.Time{}
		return nil
	}
	inc.NextUpdateAt = from.Add(every)
	return tx.Enqueue(ctx, klaxon.UpdateDue{IncidentID: inc.ID, Due: inc.NextUpdateAt}, inc.NextUpdateAt)
}

// scheduleDiagnosis queues the check that escalates a most-severe
// incident still investigating.
func (s *Service) scheduleDiagnosis(ctx context.Context, tx klaxon.Tx, inc *klaxon.Incident, now time.Time) error {
	if inc.Level != 0 || inc.Status != klaxon.IncidentInvestigating || !inc.EscalatedAt.IsZero() || s.cfg.Escalation == "" {
		return nil
	}
	return tx.Enqueue(ctx, klaxon.DiagnosisTimeout{IncidentID: inc.ID}, inc.DeclaredAt.Add(s.cfg.DiagnosisTimeout))
}

// person resolves who a command names: "me", a configured user's name, or
// their chat identity ("@alice", "<@U0123>", "@alice:example.org"). With no
// users configured, any name is taken as given.
func (s *Service) person(actor, who string) (string, error) {
	who = strings.TrimSpace(who)
	if strings.EqualFold(who, "me") {
		return actor, nil
	}
	id := strings.TrimSuffix(strings.TrimPrefix(who, "<"), ">")
	id, _, _ = strings.Cut(id, "|") // Slack: <@U0123|alice>
	bare := strings.TrimPrefix(id, "@")
	if bare == "" {
		return "", klaxon.Errorf(klaxon.EINVALID, "name a person")
	}
	var users map[string]klaxon.User
	if s.oncall != nil {
		users = s.oncall.Directory().Users
	}
	if len(users) == 0 {
		return bare, nil
	}
	if _, ok := users[bare]; ok {
		return bare, nil
	}
	for _, cand := range []string{id, bare} {
		if u, ok := s.oncall.UserByIdentity(cand); ok {
			return u.Name, nil
		}
	}
	names := slices.Sorted(maps.Keys(users))
	return "", klaxon.Errorf(klaxon.EINVALID, "no person %q (people: %s)", who, strings.Join(names, ", "))
}

// user is who a name stands for on chat: a configured user, or a chat
// actor ("slack:U0123") mentioned by their identity there.
func (s *Service) user(name string) klaxon.User {
	if s.oncall != nil {
		if u, ok := s.oncall.Directory().Users[name]; ok {
			u.Name = name
			return u
		}
	}
	u := klaxon.User{Name: name}
	switch platform, id, _ := strings.Cut(name, ":"); {
	case platform == "slack":
		u.Slack = id
	case platform == "gchat":
		u.GoogleChat = id
	case strings.HasPrefix(name, "@") && strings.Contains(name, ":"):
		u.Matrix = name
	}
	return u
}

// leads are who a due update is asked of: the commander and comms lead.
func leads(inc *klaxon.Incident) []string {
	var out []string
	for _, p := range []string{inc.Commander, inc.CommsLead} {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// clock is now as the stores keep times (UTC, microseconds), so a time a
// job carries compares equal to the one stored with it.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
