package notify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

// failedEventMembers bounds how many of a group's alerts get a
// notify_failed entry in their history.
const failedEventMembers = 100

// Run delivers queued notifications until ctx ends: one sender per channel,
// so each room gets its messages in the order their changes were first
// queued. A failing channel is retried with backoff and holds back its own
// later messages (order), never another channel's.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for name, ch := range s.channels {
		wg.Go(func() { s.deliverLoop(ctx, name, ch) })
	}
	wg.Go(func() { s.watchOutbox(ctx) })
	wg.Wait()
}

// watchOutbox wakes a channel's sender when another replica queued for it,
// and listens again after a lost connection: meanwhile the senders poll.
func (s *Service) watchOutbox(ctx context.Context) {
	for ctx.Err() == nil {
		if err := s.store.WatchOutbox(ctx, s.wake); err != nil {
			s.log.Warn("not hearing other replicas' notifications; polling until this is back", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(s.poll):
			}
		}
	}
}

func (s *Service) deliverLoop(ctx context.Context, name string, ch Channel) {
	wake := s.wakes[name]
	for ctx.Err() == nil {
		wait, hold, err := s.deliverNext(ctx, name, ch)
		if err != nil && ctx.Err() == nil {
			s.log.Error("notification delivery", "channel", name, "err", err)
			wait = s.poll
		}
		if wait == 0 {
			continue
		}
		t := time.NewTimer(wait)
		if hold {
			// Backing off a failing platform: a new change must not wake
			// the sender early, or it would send a later message first.
			wake = nil
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-t.C:
		}
		t.Stop()
		wake = s.wakes[name]
	}
}

// deliverNext sends the channel's next due notification, if any, and says
// how long to wait before looking again (0: at once) and whether the wait is
// a backoff that must not be cut short.
func (s *Service) deliverNext(ctx context.Context, name string, ch Channel) (time.Duration, bool, error) {
	now := s.now().UTC()
	n, next, err := s.store.NextNotification(ctx, name, now)
	if err != nil {
		return 0, false, err
	}
	if n == nil {
		if next.IsZero() {
			return s.poll, false, nil
		}
		return min(max(next.Sub(now), time.Millisecond), s.poll), false, nil
	}
	msg, err := s.render(ctx, n.GroupID)
	if err != nil {
		return 0, false, err
	}
	prev, err := s.store.Message(ctx, n.GroupID, name)
	if err != nil {
		return 0, false, err
	}
	if prev == nil {
		prev = &klaxon.Message{GroupID: n.GroupID, Channel: name}
	}
	d := Delivery{ID: n.ID, Version: n.Version, Attempt: n.Attempts + 1, Remind: n.Remind, Ref: prev.Ref, Message: msg}
	ref, sendErr := ch.Send(ctx, d)
	if ctx.Err() != nil {
		return 0, false, nil // shutting down: the notification stays queued
	}
	done := s.now().UTC()
	switch {
	case sendErr == nil:
		notificationsSent.WithLabelValues(name).Inc()
		notifyLatency.WithLabelValues(name).Observe(done.Sub(n.CreatedAt).Seconds())
		var posted []klaxon.Event
		if prev.Ref == "" && ref != "" {
			if posted, err = s.postedEvents(ctx, name, msg, done); err != nil {
				return 0, false, err
			}
		}
		prev.Ref, prev.Sends, prev.SentAt, prev.LastError, prev.FailedAt = ref, prev.Sends+1, done, "", time.Time{}
		return 0, false, s.store.Update(ctx, func(tx klaxon.Tx) error {
			if err := tx.SaveMessage(ctx, prev); err != nil {
				return err
			}
			if _, err := tx.FinishNotification(ctx, n.ID, n.Version); err != nil {
				return err
			}
			return tx.AddEvents(ctx, posted...)
		})
	case IsPermanent(sendErr):
		notificationsFailed.WithLabelValues(name).Inc()
		s.log.Error("channel refused a message; not retrying", "channel", name, "group", n.GroupID, "err", sendErr)
		return 0, false, s.recordFailure(ctx, n, prev, sendErr, done)
	default:
		notificationsRetried.WithLabelValues(name).Inc()
		wait := retryAfter(sendErr)
		if wait <= 0 {
			wait = s.backoffFor(n.Attempts + 1)
		}
		s.log.Warn("message not delivered; will retry", "channel", name, "group", n.GroupID, "attempt", n.Attempts+1, "retry_in", wait, "err", sendErr)
		// The wait is held in memory, not in NotBefore: the whole channel
		// backs off, and after a restart the oldest message goes first.
		err := s.store.Update(ctx, func(tx klaxon.Tx) error {
			return tx.NotificationFailed(ctx, n.ID, sendErr.Error(), n.NotBefore)
		})
		return wait, true, err
	}
}

// backoffFor is exponential from 1s with jitter, capped.
func (s *Service) backoffFor(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 10)
	d = min(d, s.backoff)
	return d/2 + rand.N(d/2+1)
}

// postedEvents are the history entries of a group's first post on a
// channel: where it went and whom it mentioned.
func (s *Service) postedEvents(ctx context.Context, channel string, msg *Message, now time.Time) ([]klaxon.Event, error) {
	_, _, members, err := s.store.GroupView(ctx, msg.GroupID, failedEventMembers)
	if err != nil {
		return nil, err
	}
	text := "Posted to " + channel
	if len(msg.Mention) > 0 {
		text += ", mentioning " + s.whoOn(channel, msg.Mention)
	}
	return events(members, klaxon.EventNotified, channel, text, now), nil
}

// recordFailure drops the notification and writes the refusal where people
// look: the message record and the history of the group's open alerts.
func (s *Service) recordFailure(ctx context.Context, n *klaxon.Notification, prev *klaxon.Message, sendErr error, now time.Time) error {
	_, _, members, err := s.store.GroupView(ctx, n.GroupID, failedEventMembers)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("message to %s failed: %v", n.Channel, sendErr)
	var events []klaxon.Event
	for _, a := range members {
		events = append(events, klaxon.Event{AlertID: a.ID, At: now, Kind: klaxon.EventNotifyFailed, Actor: n.Channel, Message: text})
	}
	prev.LastError, prev.FailedAt = sendErr.Error(), now
	return s.store.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.SaveMessage(ctx, prev); err != nil {
			return err
		}
		if _, err := tx.FinishNotification(ctx, n.ID, n.Version); err != nil {
			return err
		}
		return tx.AddEvents(ctx, events...)
	})
}

// render builds the platform-neutral message for a group as it is now.
func (s *Service) render(ctx context.Context, groupID int64) (*Message, error) {
	g, counts, members, err := s.store.GroupView(ctx, groupID, MaxShown)
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, errors.New("group has no members")
	}
	top := members[0] // GroupView orders open first, most severe first
	m := &Message{
		GroupID:   g.ID,
		Title:     groupTitle(g, members),
		Level:     top.Level,
		LevelName: s.severity.Name(top.Level),
		Severity:  top.Severity,
		State:     klaxon.StateResolved,
		Labels:    g.Labels,
		Counts:    counts,
		Alerts:    members,
		BaseURL:   s.baseURL,
		At:        s.now().UTC(),
	}
	switch {
	case counts.Firing > 0:
		m.State = klaxon.StateFiring
	case counts.Acknowledged > 0:
		m.State = klaxon.StateAcknowledged
	}
	m.URL = m.AlertURL(top.ID)
	m.LastFrom = lastChange(m.State, members)
	m.Runbook = s.runbookLink(top)
	if r := s.routes.Find(g.Route); s.oncall != nil && r != nil && r.Escalation != "" && m.State == klaxon.StateFiring {
		e, err := s.store.Escalation(ctx, groupID)
		if err != nil {
			return nil, err
		}
		if e.Running() {
			users := s.oncall.Directory().Users
			for _, name := range e.Mention {
				u := users[name]
				u.Name = name
				m.Mention = append(m.Mention, u)
			}
		}
	}
	return m, nil
}

// runbookLink is what a message shows of the alert's runbook, or nil.
func (s *Service) runbookLink(a *klaxon.Alert) *RunbookLink {
	if s.runbooks == nil {
		return nil
	}
	rb := s.runbooks.Current().Match(a.Labels)
	if rb == nil {
		return nil
	}
	return LinkRunbook(rb, a, s.baseURL, MaxSteps)
}

// LinkRunbook shows rb for alert a: a link to Klaxon's page of it with the
// alert's labels filled in, and up to max diagnose steps filled.
func LinkRunbook(rb *runbook.Runbook, a *klaxon.Alert, baseURL string, max int) *RunbookLink {
	l := &RunbookLink{Title: rb.Title, URL: fmt.Sprintf("%s/runbooks/%s?alert=%d", strings.TrimSuffix(baseURL, "/"), rb.Slug, a.ID)}
	vars := runbook.VarsOf(a)
	for i, step := range rb.Steps {
		if i == max {
			l.More = len(rb.Steps) - max
			break
		}
		l.Steps = append(l.Steps, runbook.Fill(step.Text, vars))
	}
	return l
}

// lastChange says who made the group's state what it is, from the latest
// acknowledgement (or resolve) among the members shown: "acknowledged by
// alice". Empty while firing.
func lastChange(state klaxon.State, members []*klaxon.Alert) string {
	var who string
	var at time.Time
	for _, a := range members {
		by, when := a.AckedBy, a.AckedAt
		if state == klaxon.StateResolved {
			by, when = a.ResolvedBy, a.ResolvedAt
		}
		if by != "" && when.After(at) {
			who, at = by, when
		}
	}
	if who == "" || state == klaxon.StateFiring {
		return ""
	}
	return string(state) + " by " + who
}

// groupTitle names a group: its alertname when the members share one,
// else its group labels' values.
func groupTitle(g *klaxon.Group, members []*klaxon.Alert) string {
	if name := g.Labels["alertname"]; name != "" {
		return name
	}
	name := members[0].Name()
	for _, a := range members[1:] {
		if a.Name() != name {
			name = ""
			break
		}
	}
	if name != "" {
		return name
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
		parts = append(parts, k+"="+g.Labels[k])
	}
	if len(parts) == 0 {
		return "Alerts"
	}
	return strings.Join(parts, ", ")
}
