package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// page calls a step's people on one channel. A page whose escalation
// stopped meanwhile (acknowledged a moment after the step) is dropped.
func (s *Service) page(ctx context.Context, j klaxon.Page) error {
	ch, ok := s.channels[j.Channel].(Pager)
	if !ok || s.oncall == nil {
		s.log.Warn("page for a channel that cannot page; dropped", "channel", j.Channel, "group", j.GroupID)
		return nil
	}
	e, err := s.store.Escalation(ctx, j.GroupID)
	if err != nil {
		return err
	}
	if e == nil || e.Epoch != j.Epoch || !e.Running() {
		return nil
	}
	g, _, _, err := s.store.GroupView(ctx, j.GroupID, 0)
	if err != nil {
		return err
	}
	prev, err := s.store.Message(ctx, j.GroupID, j.Channel)
	if err != nil {
		return err
	}
	ref := ""
	if j.Thread {
		switch {
		case prev != nil && prev.Ref != "":
			ref = prev.Ref
		case prev != nil && prev.Sends == 0 && prev.LastError != "":
			// The group's message was refused: call them in the room.
		default:
			return errNotPosted
		}
	}
	msg, err := s.render(ctx, j.GroupID)
	if err != nil {
		return err
	}
	dir := s.oncall.Directory()
	people := make([]klaxon.User, len(j.Users))
	for i, name := range j.Users {
		people[i] = dir.Users[name]
		people[i].Name = name
	}
	d := PageDelivery{
		Key:     fmt.Sprintf("klaxon-page-%d.%d.%d-%s", j.GroupID, j.Epoch, j.Step, j.Channel),
		Ref:     ref,
		Text:    j.Text,
		People:  people,
		Message: msg,
	}
	got, err := ch.Page(ctx, d)
	now := s.now().UTC()
	var firing []*klaxon.Alert
	for _, a := range msg.Alerts {
		if a.State == klaxon.StateFiring {
			firing = append(firing, a)
		}
	}
	if err != nil {
		if !IsPermanent(err) {
			return err // retried by the job queue, with backoff
		}
		notificationsFailed.WithLabelValues(j.Channel).Inc()
		text := fmt.Sprintf("page on %s failed: %v", j.Channel, err)
		return s.store.Update(ctx, func(tx klaxon.Tx) error {
			return tx.AddEvents(ctx, events(firing, klaxon.EventNotifyFailed, j.Channel, text, now)...)
		})
	}
	notificationsSent.WithLabelValues(j.Channel).Inc()
	text := "Paged " + j.Channel
	if len(people) > 0 {
		text = fmt.Sprintf("Mentioned %s on %s", s.whoOn(j.Channel, people), j.Channel)
	}
	_, isChat := ch.(Chat)
	return s.store.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.AddEvents(ctx, events(firing, klaxon.EventNotified, j.Channel, text, now)...); err != nil {
			return err
		}
		if isChat || got == "" {
			return nil
		}
		// A pager's incident: later changes of the group update it.
		m := prev
		if m == nil {
			m = &klaxon.Message{GroupID: j.GroupID, Channel: j.Channel}
		}
		m.Ref, m.Sends, m.SentAt, m.LastError, m.FailedAt = got, m.Sends+1, now, "", time.Time{}
		if err := tx.SaveMessage(ctx, m); err != nil {
			return err
		}
		if r := s.routes.Find(g.Route); r != nil && slices.Contains(r.Receivers, j.Channel) {
			return nil
		}
		e, err := tx.EscalationForUpdate(ctx, j.GroupID)
		if err != nil || e == nil || slices.Contains(e.Paged, j.Channel) {
			return err
		}
		e.Paged = append(e.Paged, j.Channel)
		return tx.SaveEscalation(ctx, e)
	})
}

// whoOn names people as a channel reaches them: "alice (@alice:example.org),
// carol (no identity on ops-matrix)".
func (s *Service) whoOn(channel string, people []klaxon.User) string {
	chat, _ := s.channels[channel].(Chat)
	names := make([]string, len(people))
	for i, u := range people {
		id := ""
		if chat != nil {
			id = chat.MentionOf(u)
		}
		if id == "" {
			names[i] = u.Name + " (named: no identity there)"
		} else {
			names[i] = u.Name + " (" + id + ")"
		}
	}
	return strings.Join(names, ", ")
}
