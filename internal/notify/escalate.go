package notify

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// Escalation. A group whose route names an escalation policy walks it while
// a member fires: the first step runs as the group begins firing (its chat
// mentions ride in the group's first message when the group is new), and
// each later step runs when the previous step's ack deadline passes. Every
// step is a durable EscalationStep job that acts only if the escalation is
// still at its epoch and step, inside a transaction that locks the
// escalation; so an ack racing a deadline, a restart, or a second replica
// neither loses nor doubles a step. What a step calls goes out as Page
// jobs, one per channel.

// groupChange is what one transaction did to a group's members.
type groupChange struct {
	group   *klaxon.Group
	created bool
	firing  []*klaxon.Alert      // members that began firing (fired, refired, unacknowledged)
	settled []klaxon.AlertChange // acknowledgements and resolves
}

type groupChanges map[int64]*groupChange

func (gc groupChanges) add(g *klaxon.Group, created bool, c klaxon.AlertChange) {
	ch := gc[g.ID]
	if ch == nil {
		ch = &groupChange{group: g}
		gc[g.ID] = ch
	}
	ch.created = ch.created || created
	switch c.Kind {
	case klaxon.EventFired, klaxon.EventRefired, klaxon.EventUnacked:
		ch.firing = append(ch.firing, c.Alert)
	case klaxon.EventAcknowledged, klaxon.EventResolved:
		ch.settled = append(ch.settled, c)
	}
}

// escalate starts, stops and follows the escalations of the groups a
// transaction changed.
func (s *Service) escalate(ctx context.Context, tx klaxon.Tx, changes groupChanges, now time.Time) error {
	if s.oncall == nil || len(changes) == 0 {
		return nil
	}
	dir := s.oncall.Directory()
	for _, id := range slices.Sorted(maps.Keys(changes)) {
		c := changes[id]
		r := s.routes.Find(c.group.Route)
		if r == nil || r.Escalation == "" || (len(c.firing) == 0 && len(c.settled) == 0) {
			continue
		}
		e, err := tx.EscalationForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if e != nil && len(e.Paged) > 0 {
			// A pager called outside the route hears of acks and resolves.
			if err := s.queueChannels(ctx, tx, c.group, e.Paged, now, false); err != nil {
				return err
			}
		}
		switch {
		case e.Running() && len(c.settled) > 0 && len(c.firing) == 0:
			firing, err := tx.FiringMembers(ctx, id)
			if err != nil {
				return err
			}
			if firing[id] == 0 {
				last := c.settled[len(c.settled)-1]
				reason := string(last.Kind)
				if by := actorOf(last); by != "" {
					reason += " by " + by
				}
				if err := s.stopEscalation(ctx, tx, e, reason, settledAlerts(c.settled), now); err != nil {
					return err
				}
			}
		case !e.Running() && len(c.firing) > 0:
			p := dir.Policies[r.Escalation]
			if p == nil || len(p.Steps) == 0 {
				s.log.Warn("route's escalation policy is gone from the configuration", "group", id, "policy", r.Escalation)
				continue
			}
			level := c.firing[0].Level
			for _, a := range c.firing[1:] {
				level = min(level, a.Level)
			}
			if deadlineOf(dir, level).None {
				continue // this level is never escalated (P3 by default)
			}
			next := &klaxon.Escalation{GroupID: id, Policy: p.Name, Epoch: 1, StartedAt: now}
			if e != nil {
				next.Epoch = e.Epoch + 1
			}
			if after := p.Steps[0].After; after != nil && *after > 0 {
				next.DueAt = now.Add(*after)
				if err := tx.Enqueue(ctx, klaxon.EscalationStep{GroupID: id, Epoch: next.Epoch}, next.DueAt); err != nil {
					return err
				}
				if err := tx.SaveEscalation(ctx, next); err != nil {
					return err
				}
				continue
			}
			run := stepRun{e: next, route: r, policy: p, level: level, alerts: c.firing, now: now, firstMessage: c.created}
			if err := s.runStep(ctx, tx, dir, run); err != nil {
				return err
			}
		}
	}
	return nil
}

func actorOf(c klaxon.AlertChange) string {
	if c.Kind == klaxon.EventResolved {
		return c.Alert.ResolvedBy
	}
	return c.Alert.AckedBy
}

func settledAlerts(cs []klaxon.AlertChange) []*klaxon.Alert {
	out := make([]*klaxon.Alert, len(cs))
	for i, c := range cs {
		out[i] = c.Alert
	}
	return out
}

func deadlineOf(dir *oncall.Directory, l klaxon.Level) oncall.Deadline {
	if int(l) >= 0 && int(l) < len(dir.Deadlines) {
		return dir.Deadlines[l]
	}
	return oncall.Deadline{None: true}
}

// stopEscalation ends an escalation and says why in the history of alerts.
func (s *Service) stopEscalation(ctx context.Context, tx klaxon.Tx, e *klaxon.Escalation, reason string, alerts []*klaxon.Alert, now time.Time) error {
	e.StoppedAt, e.StopReason, e.DueAt = now, reason, time.Time{}
	text := fmt.Sprintf("Escalation stopped (policy %s): %s", e.Policy, reason)
	if err := tx.AddEvents(ctx, events(alerts, klaxon.EventEscalationStopped, "klaxon", text, now)...); err != nil {
		return err
	}
	return tx.SaveEscalation(ctx, e)
}

func events(alerts []*klaxon.Alert, kind klaxon.EventKind, actor, text string, now time.Time) []klaxon.Event {
	out := make([]klaxon.Event, len(alerts))
	for i, a := range alerts {
		out[i] = klaxon.Event{AlertID: a.ID, At: now, Kind: kind, Actor: actor, Message: text}
	}
	return out
}

// stepRun is one step about to run.
type stepRun struct {
	e      *klaxon.Escalation
	route  *Route
	policy *oncall.Policy
	level  klaxon.Level
	alerts []*klaxon.Alert // firing members, whose history records the step
	now    time.Time
	// firstMessage: the group is new, so its first message (not yet
	// posted) mentions the step's people on the route's chat channels.
	firstMessage bool
}

// runStep runs the escalation's current step (or ends it, exhausted),
// queues the next one and saves it, in tx.
func (s *Service) runStep(ctx context.Context, tx klaxon.Tx, dir *oncall.Directory, r stepRun) error {
	e, p := r.e, r.policy
	n := len(p.Steps)
	if e.Step >= n*(p.Repeat+1) {
		return s.stopEscalation(ctx, tx, e, fmt.Sprintf("nobody acknowledged after %s", stepCount(p)), r.alerts, r.now)
	}
	step := p.Steps[e.Step%n]
	calls, notes := s.resolveTargets(ctx, dir, step, r.route, r.now)
	text := stepText(e, p, r.now)

	var (
		called []string
		pages  []klaxon.PageRecord
	)
	for _, c := range calls {
		called = append(called, c.describe())
		for _, u := range c.users {
			pages = append(pages, klaxon.PageRecord{At: r.now, Person: u, GroupID: e.GroupID, Level: r.level, Channel: c.channel})
		}
		if r.firstMessage && c.thread {
			for _, u := range c.users {
				if !slices.Contains(e.Mention, u) {
					e.Mention = append(e.Mention, u)
				}
			}
			continue
		}
		job := klaxon.Page{GroupID: e.GroupID, Channel: c.channel, Epoch: e.Epoch, Step: e.Step, Users: c.users, Text: text, Thread: c.thread}
		if err := tx.Enqueue(ctx, job, r.now); err != nil {
			return err
		}
	}
	// Mentions in the group's first message count too: they call people
	// as surely as a page does.
	if err := tx.RecordPages(ctx, pages...); err != nil {
		return err
	}
	history := text
	if len(called) > 0 {
		history += ": calling " + strings.Join(called, "; ")
	}
	if len(notes) > 0 {
		history += " (" + strings.Join(notes, "; ") + ")"
	}
	if err := tx.AddEvents(ctx, events(r.alerts, klaxon.EventEscalated, "klaxon", history, r.now)...); err != nil {
		return err
	}

	e.Step++
	wait := deadlineOf(dir, r.level)
	if e.Step < n*(p.Repeat+1) {
		if after := p.Steps[e.Step%n].After; after != nil {
			wait = oncall.Deadline{After: *after}
		}
	}
	due, ok := wait.From(r.now, dir.Business)
	if !ok {
		e.StoppedAt, e.StopReason, e.DueAt = r.now, "no ack deadline at this severity", time.Time{}
		return tx.SaveEscalation(ctx, e)
	}
	e.DueAt = due
	if err := tx.Enqueue(ctx, klaxon.EscalationStep{GroupID: e.GroupID, Epoch: e.Epoch, Step: e.Step}, due); err != nil {
		return err
	}
	return tx.SaveEscalation(ctx, e)
}

func stepCount(p *oncall.Policy) string {
	if p.Repeat == 0 {
		return fmt.Sprintf("%d step(s)", len(p.Steps))
	}
	return fmt.Sprintf("%d step(s), %d time(s)", len(p.Steps), p.Repeat+1)
}

// stepText says which step this is and why it runs, for the page and the
// history: "Unacknowledged for 15m: escalation step 2 of 3 (policy default)".
func stepText(e *klaxon.Escalation, p *oncall.Policy, now time.Time) string {
	n := len(p.Steps)
	text := fmt.Sprintf("escalation step %d of %d (policy %s", e.Step%n+1, n, p.Name)
	if round := e.Step / n; round > 0 {
		text += fmt.Sprintf(", repeat %d of %d", round, p.Repeat)
	}
	text += ")"
	if e.Step == 0 {
		return "Firing: " + text
	}
	return fmt.Sprintf("Unacknowledged for %s: %s", now.Sub(e.StartedAt).Round(time.Minute), text)
}

// call is what a step sends to one channel.
type call struct {
	channel string
	users   []string
	thread  bool // in the group's thread on a route channel, else in the room
	why     map[string]string
}

func (c call) describe() string {
	if len(c.users) == 0 {
		return c.channel
	}
	names := make([]string, len(c.users))
	for i, u := range c.users {
		names[i] = u
		if w := c.why[u]; w != "" {
			names[i] += " (" + w + ")"
		}
	}
	return strings.Join(names, ", ") + " on " + c.channel
}

// resolveTargets turns a step's targets into calls per channel, and notes
// what could not be called (nobody on call, no chat channel).
func (s *Service) resolveTargets(ctx context.Context, dir *oncall.Directory, step oncall.Step, r *Route, now time.Time) ([]call, []string) {
	var chats []string
	for _, name := range r.Receivers {
		if _, ok := s.channels[name].(Chat); ok {
			chats = append(chats, name)
		}
	}
	byChannel := map[string]*call{}
	var order []string
	var notes []string
	add := func(channel string, thread bool, user, why string) {
		c := byChannel[channel]
		if c == nil {
			c = &call{channel: channel, thread: thread, why: map[string]string{}}
			byChannel[channel] = c
			order = append(order, channel)
		}
		if user != "" && !slices.Contains(c.users, user) {
			c.users = append(c.users, user)
			c.why[user] = why
		}
	}
	for _, t := range step.Targets {
		var user, why string
		switch {
		case t.Schedule != "":
			who, err := s.oncall.OnCall(ctx, t.Schedule, now)
			if err != nil || len(who) == 0 || who[0].Now == nil {
				notes = append(notes, fmt.Sprintf("nobody is on call for %s", t.Schedule))
				if t.Channel == "" {
					continue
				}
			} else {
				user, why = who[0].Now.User, "on call for "+t.Schedule
			}
		case t.User != "":
			user = t.User
		}
		if t.Channel != "" {
			if _, ok := s.channels[t.Channel].(Pager); !ok {
				notes = append(notes, fmt.Sprintf("channel %s cannot page", t.Channel))
				continue
			}
			_, isChat := s.channels[t.Channel].(Chat)
			add(t.Channel, isChat && slices.Contains(r.Receivers, t.Channel), user, why)
			continue
		}
		if len(chats) == 0 {
			notes = append(notes, fmt.Sprintf("no chat channel on the route to mention %s", user))
			continue
		}
		for _, ch := range chats {
			add(ch, true, user, why)
		}
	}
	calls := make([]call, len(order))
	for i, ch := range order {
		calls[i] = *byChannel[ch]
	}
	return calls, notes
}

// escalationStep runs a step whose deadline passed, unless the escalation
// moved on (an ack, a newer epoch, a duplicate job).
func (s *Service) escalationStep(ctx context.Context, j klaxon.EscalationStep) error {
	if s.oncall == nil {
		return nil
	}
	g, _, members, err := s.store.GroupView(ctx, j.GroupID, failedEventMembers)
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	var firing []*klaxon.Alert
	for _, a := range members {
		if a.State == klaxon.StateFiring {
			firing = append(firing, a)
		}
	}
	now := s.now().UTC()
	dir := s.oncall.Directory()
	return s.store.Update(ctx, func(tx klaxon.Tx) error {
		e, err := tx.EscalationForUpdate(ctx, j.GroupID)
		if err != nil || !e.Running() || e.Epoch != j.Epoch || e.Step != j.Step {
			return err
		}
		counts, err := tx.FiringMembers(ctx, j.GroupID)
		if err != nil {
			return err
		}
		if counts[j.GroupID] == 0 || len(firing) == 0 {
			return s.stopEscalation(ctx, tx, e, "nothing is firing", nil, now)
		}
		r := s.routes.Find(g.Route)
		var p *oncall.Policy
		if r != nil {
			p = dir.Policies[r.Escalation]
		}
		if p == nil || len(p.Steps) == 0 || p.Name != e.Policy {
			return s.stopEscalation(ctx, tx, e, fmt.Sprintf("policy %s is no longer the route's", e.Policy), firing, now)
		}
		level := firing[0].Level
		for _, a := range firing[1:] {
			level = min(level, a.Level)
		}
		return s.runStep(ctx, tx, dir, stepRun{e: e, route: r, policy: p, level: level, alerts: firing, now: now})
	})
}
