package klaxon

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Outcome says what applying a Signal did to stored state.
type Outcome string

// Outcomes of Observe.
const (
	OutcomeCreated      Outcome = "created"      // first occurrence of this key
	OutcomeRefired      Outcome = "refired"      // new occurrence after a resolved one
	OutcomeUpdated      Outcome = "updated"      // still open; labels, annotations or severity changed
	OutcomeRepeated     Outcome = "repeated"     // still open (or resolved by a person), nothing changed
	OutcomeAcknowledged Outcome = "acknowledged" // the source acknowledged it
	OutcomeResolved     Outcome = "resolved"     // the source resolved it
	OutcomeIgnored      Outcome = "ignored"      // ack/resolve of nothing open
	OutcomeCheckIn      Outcome = "checkin"      // a heartbeat check-in, not an alert
)

// Observe applies a source's signal to the latest stored occurrence of its key
// (nil when there is none) and returns the alert to store (ID 0 means insert;
// nil means nothing to store) and the history entry to record, if any.
//
// The rules:
//   - A trigger with no open occurrence opens one. If a resolved occurrence
//     exists, the new one links to it (PreviousID): a new occurrence, as
//     PagerDuty and Alertmanager users expect, visibly tied to the old.
//   - Exception: a person resolved the alert while the source still fires it.
//     Notifications of that same firing (same StartsAt, as Alertmanager sends
//     on every repeat_interval) count as repeats of the resolved alert and do
//     not reopen it: the person said "handled". A new firing at the source
//     (new StartsAt) opens a new occurrence. Sources without StartsAt (Events
//     v2) reopen on the next trigger, as PagerDuty does.
//   - A trigger on an open occurrence bumps Count and LastSeen, and records an
//     "updated" entry when severity, summary, labels or annotations changed.
//   - Acknowledge and resolve act on the open occurrence; with none open they
//     are ignored (PagerDuty answers them with success too).
func Observe(latest *Alert, integration string, sig Signal, level Level, now time.Time) (*Alert, Outcome, *Event) {
	open := latest != nil && latest.State.Open()
	switch sig.Action {
	case ActionAcknowledge:
		if !open || latest.State == StateAcknowledged {
			return nil, OutcomeIgnored, nil
		}
		a := *latest
		ev := a.acknowledge(integration, now)
		return &a, OutcomeAcknowledged, &ev
	case ActionResolve:
		if !open {
			return nil, OutcomeIgnored, nil
		}
		a := *latest
		ev := a.resolve(integration, now)
		return &a, OutcomeResolved, &ev
	}
	if open || latest != nil && sameFiringResolvedByPerson(latest, integration, sig) {
		a := *latest
		a.Count++
		a.LastSeen = now
		changes := a.refresh(sig, level)
		if len(changes) == 0 || !open {
			return &a, OutcomeRepeated, nil
		}
		return &a, OutcomeUpdated, &Event{AlertID: a.ID, At: now, Kind: EventUpdated, Actor: integration, Message: strings.Join(changes, "; ")}
	}
	a := &Alert{
		Integration: integration,
		Key:         sig.Key,
		State:       StateFiring,
		StartsAt:    sig.StartsAt,
		FirstSeen:   now,
		LastSeen:    now,
		Count:       1,
	}
	if a.StartsAt.IsZero() {
		a.StartsAt = now
	}
	a.refresh(sig, level)
	if latest == nil {
		return a, OutcomeCreated, &Event{At: now, Kind: EventFired, Actor: integration}
	}
	a.PreviousID = latest.ID
	return a, OutcomeRefired, &Event{At: now, Kind: EventRefired, Actor: integration,
		Message: fmt.Sprintf("new occurrence of alert %d", latest.ID)}
}

func sameFiringResolvedByPerson(a *Alert, integration string, sig Signal) bool {
	return a.ResolvedBy != integration && !sig.StartsAt.IsZero() && sig.StartsAt.Equal(a.StartsAt)
}

// refresh copies what the source says now onto a, returning what changed.
func (a *Alert) refresh(sig Signal, level Level) []string {
	var changes []string
	if a.ID != 0 {
		if a.Severity != sig.Severity {
			changes = append(changes, fmt.Sprintf("severity %s → %s", orNone(a.Severity), orNone(sig.Severity)))
		}
		if a.Summary != sig.Summary {
			changes = append(changes, "summary changed")
		}
		if d := diffKeys(a.Labels, sig.Labels); d != "" {
			changes = append(changes, "labels changed: "+d)
		}
		if d := diffKeys(withoutSummary(a.Annotations), withoutSummary(sig.Annotations)); d != "" {
			changes = append(changes, "annotations changed: "+d)
		}
	}
	a.Severity, a.Level, a.Summary = sig.Severity, level, sig.Summary
	a.Labels, a.Annotations = sig.Labels, sig.Annotations
	a.Details, a.Links, a.SourceURL = sig.Details, sig.Links, sig.SourceURL
	return changes
}

// withoutSummary drops the summary annotation, which "summary changed"
// already reports.
func withoutSummary(m map[string]string) map[string]string {
	if _, ok := m["summary"]; !ok {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != "summary" {
			out[k] = v
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// diffKeys names the keys whose values differ between a and b, sorted.
func diffKeys(a, b map[string]string) string {
	var keys []string
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

// Acknowledge marks a firing alert as being handled by actor.
func (a *Alert) Acknowledge(actor string, now time.Time) (Event, error) {
	switch a.State {
	case StateAcknowledged:
		return Event{}, Errorf(ECONFLICT, "alert %d is already acknowledged by %s", a.ID, a.AckedBy)
	case StateResolved:
		return Event{}, Errorf(ECONFLICT, "alert %d is resolved", a.ID)
	}
	return a.acknowledge(actor, now), nil
}

func (a *Alert) acknowledge(actor string, now time.Time) Event {
	a.State, a.AckedBy, a.AckedAt = StateAcknowledged, actor, now
	return Event{AlertID: a.ID, At: now, Kind: EventAcknowledged, Actor: actor}
}

// Unacknowledge puts an acknowledged alert back to firing, so it needs
// attention (and, later, escalates) again.
func (a *Alert) Unacknowledge(actor string, now time.Time) (Event, error) {
	if a.State != StateAcknowledged {
		return Event{}, Errorf(ECONFLICT, "alert %d is %s, not acknowledged", a.ID, a.State)
	}
	prev := a.AckedBy
	a.State, a.AckedBy, a.AckedAt = StateFiring, "", time.Time{}
	return Event{AlertID: a.ID, At: now, Kind: EventUnacked, Actor: actor, Message: "was acknowledged by " + prev}, nil
}

// Resolve closes an open alert on a person's word. See Observe for what the
// source firing it again means.
func (a *Alert) Resolve(actor string, now time.Time) (Event, error) {
	if a.State == StateResolved {
		return Event{}, Errorf(ECONFLICT, "alert %d is already resolved by %s", a.ID, a.ResolvedBy)
	}
	return a.resolve(actor, now), nil
}

func (a *Alert) resolve(actor string, now time.Time) Event {
	a.State, a.ResolvedBy, a.ResolvedAt = StateResolved, actor, now
	return Event{AlertID: a.ID, At: now, Kind: EventResolved, Actor: actor}
}
