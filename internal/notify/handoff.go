package notify

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// handoffHorizon is how far ahead the next hand-off is looked for.
const handoffHorizon = 100 * 24 * time.Hour

// QueueHandoffs queues the next hand-off notice of every schedule that
// has them. The leader calls it when elected, and any replica after a
// reload or an override change; the job queue keeps one job per schedule
// and time.
func (s *Service) QueueHandoffs(ctx context.Context) error {
	if s.oncall == nil {
		return nil
	}
	now := s.now().UTC()
	dir := s.oncall.Directory()
	return s.store.Update(ctx, func(tx klaxon.Tx) error {
		for _, name := range slices.Sorted(maps.Keys(dir.Schedules)) {
			if dir.Schedules[name].Handoff == "" {
				continue
			}
			at, ok, err := s.nextHandoff(ctx, name, now)
			if err != nil {
				return err
			}
			if ok {
				if err := tx.Enqueue(ctx, klaxon.HandoffNotice{Schedule: name, At: at.UTC()}, at); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// nextHandoff is the first time after t at which the schedule's on-call
// person changes (someone else, or nobody).
func (s *Service) nextHandoff(ctx context.Context, schedule string, t time.Time) (time.Time, bool, error) {
	shifts, err := s.oncall.Shifts(ctx, schedule, t, t.Add(handoffHorizon))
	if err != nil {
		return time.Time{}, false, err
	}
	userAt := func(at time.Time) string {
		for _, sh := range shifts {
			if !at.Before(sh.Start) && at.Before(sh.End) {
				return sh.User
			}
		}
		return ""
	}
	for _, sh := range shifts {
		for _, b := range []time.Time{sh.Start, sh.End} {
			if b.After(t) && b.Before(t.Add(handoffHorizon)) && userAt(b.Add(-time.Nanosecond)) != userAt(b) {
				return b, true, nil
			}
		}
	}
	return time.Time{}, false, nil
}

// handoff announces who is on call from j.At, then queues the next notice.
func (s *Service) handoff(ctx context.Context, j klaxon.HandoffNotice) error {
	if s.oncall == nil {
		return nil
	}
	sched := s.oncall.Directory().Schedules[j.Schedule]
	if sched == nil || sched.Handoff == "" {
		return nil // no longer wanted; a reload that wants it queues anew
	}
	before, err := s.oncall.OnCall(ctx, j.Schedule, j.At.Add(-time.Nanosecond))
	if err != nil {
		return err
	}
	after, err := s.oncall.OnCall(ctx, j.Schedule, j.At)
	if err != nil {
		return err
	}
	prev, cur := shiftUser(before), shiftUser(after)
	if prev != cur {
		if err := s.announce(ctx, sched, j.At, prev, after[0].Now); err != nil {
			return err
		}
	}
	next, ok, err := s.nextHandoff(ctx, j.Schedule, j.At)
	if err != nil || !ok {
		return err
	}
	return s.store.Update(ctx, func(tx klaxon.Tx) error {
		return tx.Enqueue(ctx, klaxon.HandoffNotice{Schedule: j.Schedule, At: next.UTC()}, next)
	})
}

func shiftUser(o []oncall.OnCall) string {
	if len(o) == 0 || o[0].Now == nil {
		return ""
	}
	return o[0].Now.User
}

// announce posts a hand-off notice in the schedule's channel, mentioning
// whoever takes over.
func (s *Service) announce(ctx context.Context, sched *oncall.Schedule, at time.Time, prev string, cur *oncall.Shift) error {
	pager, ok := s.channels[sched.Handoff].(Pager)
	if !ok {
		s.log.Warn("hand-off channel cannot post notices", "schedule", sched.Name, "channel", sched.Handoff)
		return nil
	}
	loc := sched.Location
	if loc == nil {
		loc = time.UTC
	}
	var text string
	var people []klaxon.User
	if cur == nil {
		text = fmt.Sprintf("Hand-off on %s: nobody is on call from %s", sched.Name, at.In(loc).Format("Mon 2 Jan 15:04 MST"))
	} else {
		text = fmt.Sprintf("Hand-off on %s: %s is on call until %s", sched.Name, cur.User, cur.End.In(loc).Format("Mon 2 Jan 15:04 MST"))
		u := s.oncall.Directory().Users[cur.User]
		u.Name = cur.User
		people = []klaxon.User{u}
	}
	if prev != "" {
		text += fmt.Sprintf(", taking over from %s", prev)
	}
	text += "."
	_, err := pager.Page(ctx, PageDelivery{
		Key:    fmt.Sprintf("klaxon-handoff-%s-%d", sched.Name, at.Unix()),
		Text:   text,
		People: people,
	})
	if err != nil && IsPermanent(err) {
		s.log.Error("hand-off notice refused; not retrying", "schedule", sched.Name, "channel", sched.Handoff, "err", err)
		return nil
	}
	return err
}
