package klaxon

import "time"

// User is a person Klaxon can call: their identity on each platform, so a
// mention reaches them and an ack from chat is recorded as theirs.
type User struct {
	Name       string         `json:"name"`
	Matrix     string         `json:"matrix,omitempty"`      // @alice:example.org
	Slack      string         `json:"slack,omitempty"`       // U0123ALICE
	GoogleChat string         `json:"google_chat,omitempty"` // users/123456789
	Email      string         `json:"email,omitempty"`
	TimeZone   *time.Location `json:"-"`
}

// Identities are the user's platform IDs, for matching a chat actor.
func (u User) Identities() []string {
	var out []string
	for _, id := range []string{u.Matrix, u.Slack, u.GoogleChat, u.Email} {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// Override puts User on call for a schedule from Start to End, in place of
// whoever the rotations say (or only in place of Replaces, if set).
// Overrides come from configuration (ID 0) or were added at run time from
// the CLI, API or chat (stored, with an ID).
type Override struct {
	ID        int64     `json:"id,omitempty"`
	Schedule  string    `json:"schedule"`
	User      string    `json:"user"`
	Replaces  string    `json:"replaces,omitempty"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Escalation is a group's walk through its route's escalation policy. It
// starts when the group begins firing, runs one step each time the
// previous step's ack deadline passes with a member still firing, and stops
// when nothing in the group fires (acknowledged or resolved) or the policy
// is exhausted. Epoch counts starts: an acknowledged group that fires again
// starts over from the first step with a new epoch, and jobs of an older
// epoch do nothing.
type Escalation struct {
	GroupID int64  `json:"group_id"`
	Policy  string `json:"policy"`
	Epoch   int64  `json:"epoch"`
	// Step is the next step to run, counted across repeats: with 3 steps,
	// 4 is the second step of the first repeat.
	Step       int       `json:"step"`
	DueAt      time.Time `json:"due_at,omitzero"` // when Step runs; zero once stopped
	StartedAt  time.Time `json:"started_at"`
	StoppedAt  time.Time `json:"stopped_at,omitzero"`
	StopReason string    `json:"stop_reason,omitempty"`
	// Mention names the users the group's first message mentions: the
	// first step's people, when the group was new as it began.
	Mention []string `json:"mention,omitempty"`
	// Paged lists channels outside the group's route that a step paged
	// (PagerDuty): they hear of the group's acknowledgement and resolution.
	Paged []string `json:"paged,omitempty"`
}

// Running reports whether the escalation has steps left to run.
func (e *Escalation) Running() bool { return e != nil && e.StoppedAt.IsZero() }

// History entries of on-call work.
const (
	EventEscalated         EventKind = "escalated"          // a step of the escalation policy ran
	EventNotified          EventKind = "notified"           // a message, mention or page reached a platform
	EventEscalationStopped EventKind = "escalation_stopped" // acknowledged, resolved or exhausted
)

// EscalationStep is the durable job that runs a group's escalation step
// when its deadline passes. It does nothing unless the escalation is still
// at Epoch and Step, so a retried or duplicated job never runs a step twice.
type EscalationStep struct {
	GroupID int64 `json:"group_id"`
	Epoch   int64 `json:"epoch"`
	Step    int   `json:"step"`
}

// Kind names the job type.
func (EscalationStep) Kind() string { return "escalation_step" }

// Page is the durable job that calls people to a group on one channel: a
// follow-up that mentions them in the group's thread, a post in another
// room, or a PagerDuty incident.
type Page struct {
	GroupID int64    `json:"group_id"`
	Channel string   `json:"channel"`
	Epoch   int64    `json:"epoch"`
	Step    int      `json:"step"`
	Users   []string `json:"users,omitempty"` // user names to mention
	Text    string   `json:"text"`            // why, e.g. "Unacknowledged for 15m: escalation step 2 of 3"
	// Thread: reply under the group's message on Channel (a route's
	// channel, which posts it), waiting for it to exist; otherwise post
	// in the room on its own.
	Thread bool `json:"thread,omitempty"`
}

// Kind names the job type.
func (Page) Kind() string { return "page" }

// HandoffNotice is the durable job that announces a schedule's hand-off
// at At, then queues the next one.
type HandoffNotice struct {
	Schedule string    `json:"schedule"`
	At       time.Time `json:"at"`
}

// Kind names the job type.
func (HandoffNotice) Kind() string { return "handoff_notice" }
