package klaxon

import "time"

// IncidentStatus is where an incident's response is: investigating →
// identified → monitoring → resolved. Any open status may follow any other
// (a fix that did not hold goes back to investigating); resolved is final.
type IncidentStatus string

// Incident statuses, in their usual order.
const (
	IncidentInvestigating IncidentStatus = "investigating"
	IncidentIdentified    IncidentStatus = "identified"
	IncidentMonitoring    IncidentStatus = "monitoring"
	IncidentResolved      IncidentStatus = "resolved"
)

// IncidentStatuses lists the statuses in order.
var IncidentStatuses = []IncidentStatus{IncidentInvestigating, IncidentIdentified, IncidentMonitoring, IncidentResolved}

// Incident is an outage being run as one: declared by a person (or promoted
// from an alert), with roles, timed status updates, a checklist, a timeline
// and, once resolved, a postmortem. Its ID is the number people type
// ("incident 7 update …").
type Incident struct {
	ID      int64          `json:"id"`
	Title   string         `json:"title"`   // "INCIDENT: api - 50% of requests failing"
	Service string         `json:"service"` // what is affected, e.g. "api"
	Summary string         `json:"summary"` // what is happening, e.g. "50% of requests failing"
	Level   Level          `json:"level"`   // on the alert ladder: 0 is SEV1 (P0)
	Status  IncidentStatus `json:"status"`
	// Public incidents appear on the status page with their public updates.
	Public     bool      `json:"public"`
	Reporter   string    `json:"reporter"`
	DetectedAt time.Time `json:"detected_at"` // UTC; the linked alert's start when promoted
	DeclaredAt time.Time `json:"declared_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`

	Commander  string   `json:"commander,omitempty"`  // a configured user's name, or a chat actor
	CommsLead  string   `json:"comms_lead,omitempty"` // likewise
	Responders []string `json:"responders,omitempty"`

	// Room is the incident's own chat room, if one was asked for.
	Room IncidentRoom `json:"room,omitzero"`

	Checklist []ChecklistItem `json:"checklist"`

	// NextUpdateAt is when the next status update is due; zero once
	// resolved or when the severity has no cadence.
	NextUpdateAt  time.Time `json:"next_update_at,omitzero"`
	LastUpdateAt  time.Time `json:"last_update_at,omitzero"`
	MissedUpdates int       `json:"missed_updates"`
	// EscalatedAt is when a SEV1 still investigating was escalated; zero
	// if it never was. EscalationStep is the next policy step to run.
	EscalatedAt    time.Time `json:"escalated_at,omitzero"`
	EscalationStep int       `json:"escalation_step,omitempty"`

	// Closure, given with resolve.
	RootCause string `json:"root_cause,omitempty"`
	Fix       string `json:"fix,omitempty"`
	Impact    string `json:"impact,omitempty"`

	// PostmortemDue is set at resolution; PostmortemDone when someone
	// marks the postmortem written.
	PostmortemDue  time.Time `json:"postmortem_due,omitzero"`
	PostmortemDone time.Time `json:"postmortem_done,omitzero"`

	// Alerts are the IDs of the linked alerts, ascending.
	Alerts []int64 `json:"alerts"`
}

// Open reports whether the incident is still being worked.
func (i *Incident) Open() bool { return i.Status != IncidentResolved }

// IncidentRoom is an incident's own room on a chat channel: a Slack
// channel, a Matrix room, a Google Chat thread.
type IncidentRoom struct {
	Channel string `json:"channel"`       // the configured channel it was opened on
	Ref     string `json:"ref,omitempty"` // the platform's room, "" until opened
	Name    string `json:"name,omitempty"`
}

// ChecklistItem is one step of an incident's checklist, copied from the
// configuration when the incident is declared so numbers never shift.
type ChecklistItem struct {
	Text   string    `json:"text"`
	DoneBy string    `json:"done_by,omitempty"`
	DoneAt time.Time `json:"done_at,omitzero"`
}

// Done reports whether the item is ticked.
func (c ChecklistItem) Done() bool { return !c.DoneAt.IsZero() }

// TimelineKind says what a timeline entry records.
type TimelineKind string

// Timeline entry kinds. Entries of linked alerts' histories (fired,
// acknowledged, resolved, diagnosed, escalated…) are merged in when the
// timeline is read, with their EventKind as kind.
const (
	TimelineDeclared    TimelineKind = "declared"
	TimelineAlertLinked TimelineKind = "alert_linked"
	TimelineUpdate      TimelineKind = "update"   // a status update; Public if shared on the status page
	TimelineStatus      TimelineKind = "status"   // investigating → identified …
	TimelineSeverity    TimelineKind = "severity" // the level changed
	TimelineRole        TimelineKind = "role"
	TimelineChecklist   TimelineKind = "checklist"
	TimelineNote        TimelineKind = "note"
	TimelineCommand     TimelineKind = "command" // a chat command run in the incident's room
	TimelineRoom        TimelineKind = "room"    // the incident's room was opened
	TimelineReminder    TimelineKind = "reminder"
	TimelineMissed      TimelineKind = "missed_update"
	TimelineEscalated   TimelineKind = "escalated"
	TimelineResolved    TimelineKind = "resolved"
	TimelinePostmortem  TimelineKind = "postmortem"
	TimelineAction      TimelineKind = "action"
)

// TimelineEntry is one thing that happened in an incident, with who and
// when.
type TimelineEntry struct {
	ID         int64        `json:"id"`
	IncidentID int64        `json:"incident_id"`
	At         time.Time    `json:"at"`
	Actor      string       `json:"actor"`
	Kind       TimelineKind `json:"kind"`
	Text       string       `json:"text"`
	// Public entries (status updates marked public, and the declaration,
	// status changes and resolution of a public incident) are shown on
	// the status page.
	Public bool `json:"public,omitempty"`
	// Status is the incident's status once this entry happened, for the
	// status page's updates.
	Status  IncidentStatus `json:"status"`
	AlertID int64          `json:"alert_id,omitempty"`
}

// ActionItem is a follow-up of an incident, tracked until done. Its ID is
// global: "action done 4".
type ActionItem struct {
	ID         int64     `json:"id"`
	IncidentID int64     `json:"incident_id"`
	Text       string    `json:"text"`
	Owner      string    `json:"owner,omitempty"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	DoneBy     string    `json:"done_by,omitempty"`
	DoneAt     time.Time `json:"done_at,omitzero"`
}

// IncidentFilter selects incidents; the zero value is every incident.
type IncidentFilter struct {
	Open  bool      // only unresolved ones
	Since time.Time // declared at or after, or still open
	Limit int       // 0: no limit
}

// ActionFilter selects action items; the zero value is every one.
type ActionFilter struct {
	IncidentID int64 // 0: every incident
	Open       bool  // only those not done
}

// ComponentStatus is a status-page component's status set by hand, which
// wins over the status its incidents give it until cleared.
type ComponentStatus struct {
	Component string    `json:"component"`
	Status    string    `json:"status"` // operational, degraded_performance, partial_outage, major_outage, under_maintenance
	SetBy     string    `json:"set_by"`
	SetAt     time.Time `json:"set_at"`
}

// IncidentPost is the durable job that posts an incident's message on one
// channel: in the incident's room (waiting for it to be opened) or in the
// channel's own room.
type IncidentPost struct {
	IncidentID int64    `json:"incident_id"`
	Channel    string   `json:"channel"`
	Key        string   `json:"key"` // idempotency key, unique per post and channel
	Text       string   `json:"text"`
	Users      []string `json:"users,omitempty"` // user names to mention
	InRoom     bool     `json:"in_room,omitempty"`
}

// Kind names the job type.
func (IncidentPost) Kind() string { return "incident_post" }

// IncidentRoomOpen is the durable job that opens an incident's room,
// invites its people, posts its first message and records the room.
type IncidentRoomOpen struct {
	IncidentID int64 `json:"incident_id"`
}

// Kind names the job type.
func (IncidentRoomOpen) Kind() string { return "incident_room_open" }

// IncidentTopic is the durable job that brings the incident room's topic
// (title, status, roles) up to date.
type IncidentTopic struct {
	IncidentID int64 `json:"incident_id"`
}

// Kind names the job type.
func (IncidentTopic) Kind() string { return "incident_topic" }

// UpdateDue is the durable job that reminds an incident's commander and
// comms lead that a status update is due. It does nothing if an update
// was posted since (NextUpdateAt moved on).
type UpdateDue struct {
	IncidentID int64     `json:"incident_id"`
	Due        time.Time `json:"due"`
}

// Kind names the job type.
func (UpdateDue) Kind() string { return "incident_update_due" }

// DiagnosisTimeout is the durable job that escalates an incident at the
// most severe level still investigating after the configured time, and
// runs the escalation policy's later steps while it stays so.
type DiagnosisTimeout struct {
	IncidentID int64 `json:"incident_id"`
	Step       int   `json:"step"`
}

// Kind names the job type.
func (DiagnosisTimeout) Kind() string { return "incident_diagnosis_timeout" }

// PostmortemDue is the durable job that reminds an incident's commander
// that its postmortem is due, again every interval until it is done.
type PostmortemDue struct {
	IncidentID int64     `json:"incident_id"`
	At         time.Time `json:"at"`
}

// Kind names the job type.
func (PostmortemDue) Kind() string { return "postmortem_due" }
