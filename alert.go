package klaxon

import (
	"encoding/json"
	"time"
)

// State is where an alert is in its lifecycle: firing → acknowledged →
// resolved. Acknowledged can go back to firing (unack).
type State string

// Alert states.
const (
	StateFiring       State = "firing"
	StateAcknowledged State = "acknowledged"
	StateResolved     State = "resolved"
)

// Open reports whether the alert still needs attention.
func (s State) Open() bool { return s == StateFiring || s == StateAcknowledged }

// Alert is one occurrence of a problem a source reported. Its identity at the
// source is (Integration, Key); its identity for people is ID, the short number
// they type ("ack 12"). A source re-firing a resolved alert opens a new
// occurrence with a new ID whose PreviousID links to the old one.
type Alert struct {
	ID          int64             `json:"id"`
	Integration string            `json:"integration"`
	Key         string            `json:"key"`
	State       State             `json:"state"`
	Level       Level             `json:"level"`
	Severity    string            `json:"severity"` // the source's own word, e.g. "critical"
	Summary     string            `json:"summary"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Details     json.RawMessage   `json:"details,omitempty"` // Events v2 custom_details, verbatim
	Links       []Link            `json:"links,omitempty"`
	SourceURL   string            `json:"source_url,omitempty"`
	StartsAt    time.Time         `json:"starts_at"` // when the source says this firing began
	FirstSeen   time.Time         `json:"first_seen"`
	LastSeen    time.Time         `json:"last_seen"`
	Count       int               `json:"count"` // notifications received for this occurrence
	AckedBy     string            `json:"acked_by,omitempty"`
	AckedAt     time.Time         `json:"acked_at,omitzero"`
	ResolvedBy  string            `json:"resolved_by,omitempty"`
	ResolvedAt  time.Time         `json:"resolved_at,omitzero"`
	PreviousID  int64             `json:"previous_id,omitempty"`
}

// Name is the alert's alertname label, the name runbooks and routes key on.
func (a *Alert) Name() string { return a.Labels["alertname"] }

// Where names the place the alert is about, from the most specific label a
// Kubernetes/Prometheus alert usually carries.
func (a *Alert) Where() string {
	ns := a.Labels["namespace"]
	for _, k := range []string{"pod", "deployment", "statefulset", "daemonset", "job_name", "persistentvolumeclaim", "service"} {
		if v := a.Labels[k]; v != "" {
			if ns != "" {
				return ns + "/" + v
			}
			return v
		}
	}
	if ns != "" {
		return ns
	}
	for _, k := range []string{"node", "instance", "component", "source", "host"} {
		if v := a.Labels[k]; v != "" {
			return v
		}
	}
	return ""
}

// Link is a URL a source attached to an alert.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Action is what a source says happened to an alert.
type Action string

// Source actions. Alertmanager and generic senders only trigger and resolve;
// Events v2 senders can also acknowledge.
const (
	ActionTrigger     Action = "trigger"
	ActionAcknowledge Action = "acknowledge"
	ActionResolve     Action = "resolve"
)

// Signal is one alert as a source reported it, decoded from the sender's
// format and not yet applied to stored state.
type Signal struct {
	Key         string
	Action      Action
	Severity    string
	Summary     string
	Labels      map[string]string
	Annotations map[string]string
	Details     json.RawMessage
	Links       []Link
	SourceURL   string
	StartsAt    time.Time // zero when the source does not say
}

// EventKind names an entry in an alert's history.
type EventKind string

// History entries.
const (
	EventFired        EventKind = "fired"
	EventRefired      EventKind = "refired" // a new occurrence of a previously resolved alert
	EventUpdated      EventKind = "updated" // labels, annotations, summary or severity changed
	EventAcknowledged EventKind = "acknowledged"
	EventUnacked      EventKind = "unacknowledged"
	EventResolved     EventKind = "resolved"
)

// Event is one entry in an alert's history: what happened, when, and who or
// what did it.
type Event struct {
	ID      int64     `json:"id"`
	AlertID int64     `json:"alert_id"`
	At      time.Time `json:"at"`
	Kind    EventKind `json:"kind"`
	Actor   string    `json:"actor"`
	Message string    `json:"message,omitempty"`
}

// AlertFilter selects alerts for a listing, newest first.
type AlertFilter struct {
	States []State // empty means every state
	Levels []Level // empty means every level
	// Labels keeps alerts whose label k equals v for every k, v; an empty
	// v means the label is absent or empty (Prometheus matcher semantics).
	Labels map[string]string
	// Search keeps alerts whose summary or any label value contains it,
	// case-insensitively.
	Search string
	Since  time.Time // FirstSeen >= Since; zero: no bound
	Until  time.Time // FirstSeen < Until; zero: no bound
	Limit  int       // 0 means the store's default
	Before int64     // only alerts with ID < Before (keyset pagination); 0 means no bound
	After  int64     // only alerts with ID > After (a window of the table); 0 means no bound
}
