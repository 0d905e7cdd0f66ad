package klaxon

import (
	"context"
	"time"
)

// Group is a set of alerts that one route sends together: each channel the
// route names gets one message for the group, edited as members come, are
// acknowledged and resolve. A group is open while any member is open; an alert
// matching a closed group's route and key starts a new group (a new message).
type Group struct {
	ID        int64             `json:"id"`
	Route     string            `json:"route"` // the route's path in the routing tree, e.g. "0.1"
	Key       string            `json:"key"`   // the group_by labels' values, canonical
	Labels    map[string]string `json:"labels"`
	CreatedAt time.Time         `json:"created_at"`
	ClosedAt  time.Time         `json:"closed_at,omitzero"`
}

// GroupCounts counts a group's members by state.
type GroupCounts struct {
	Firing       int `json:"firing"`
	Acknowledged int `json:"acknowledged"`
	Resolved     int `json:"resolved"`
}

// Total is the number of members.
func (c GroupCounts) Total() int { return c.Firing + c.Acknowledged + c.Resolved }

// Notification is pending delivery of a group's current state to one
// channel: the outbox row. There is at most one per (Channel, GroupID); a
// change while one is pending bumps its Version instead of adding a row, so a
// storm coalesces into a bounded number of sends. The content is rendered
// when it is sent, from the group as it is then.
type Notification struct {
	ID        int64     `json:"id"` // increases with the order changes were first queued
	Channel   string    `json:"channel"`
	GroupID   int64     `json:"group_id"`
	Version   int64     `json:"version"`    // 1 when queued, +1 per coalesced change
	Remind    bool      `json:"remind"`     // also post a "still firing" follow-up
	NotBefore time.Time `json:"not_before"` // not sent before (group_wait, group_interval)
	Attempts  int       `json:"attempts"`   // failed attempts so far
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Message is what Klaxon knows of the message a group produced on a channel.
type Message struct {
	GroupID   int64     `json:"group_id"`
	Channel   string    `json:"channel"`
	Ref       string    `json:"ref,omitempty"` // the platform's reference (event ID, ts…), opaque to Klaxon
	Sends     int       `json:"sends"`         // successful sends (post and edits)
	SentAt    time.Time `json:"sent_at,omitzero"`
	LastError string    `json:"last_error,omitempty"` // the last permanent failure, cleared by a success
	FailedAt  time.Time `json:"failed_at,omitzero"`
}

// History entries of delivery.
const (
	EventNotifyFailed EventKind = "notify_failed" // a channel refused the alert's message for good
)

// GroupReminder is the durable job that re-notifies a group still firing
// unacknowledged once its route's repeat_interval has passed.
type GroupReminder struct {
	GroupID int64 `json:"group_id"`
}

// Kind names the job type.
func (GroupReminder) Kind() string { return "group_reminder" }

// AlertChange is one change to an alert that people may need to hear of.
type AlertChange struct {
	Alert *Alert
	Kind  EventKind // fired, refired, updated, acknowledged, unacknowledged, resolved
	// ByPerson is set for changes a person made (chat, CLI, API): their
	// messages are updated at once, not after the route's group_interval.
	ByPerson bool
}

// AlertObserver hears of alert changes inside the transaction that makes
// them, so whatever it queues commits or rolls back with the change.
type AlertObserver interface {
	AlertsChanged(ctx context.Context, tx Tx, changes []AlertChange) error
	// Committed is called after a transaction in which AlertsChanged ran
	// has committed.
	Committed()
}

// Observers is several observers acting as one, called in order; the first
// error stops the change.
type Observers []AlertObserver

// AlertsChanged calls each observer in the caller's transaction.
func (os Observers) AlertsChanged(ctx context.Context, tx Tx, changes []AlertChange) error {
	for _, o := range os {
		if err := o.AlertsChanged(ctx, tx, changes); err != nil {
			return err
		}
	}
	return nil
}

// Committed tells each observer the transaction committed.
func (os Observers) Committed() {
	for _, o := range os {
		o.Committed()
	}
}
