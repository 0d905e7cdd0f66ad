package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// HandleJob works the incident jobs. Each re-reads the incident and does
// nothing if what it was queued for no longer holds (an update came in,
// the status moved on, the postmortem is done), so duplicates are harmless.
func (s *Service) HandleJob(ctx context.Context, job klaxon.Job) error {
	switch j := job.(type) {
	case klaxon.IncidentPost:
		return s.postJob(ctx, j)
	case klaxon.IncidentRoomOpen:
		return s.openRoom(ctx, j)
	case klaxon.IncidentTopic:
		return s.setTopic(ctx, j)
	case klaxon.UpdateDue:
		return s.updateDue(ctx, j)
	case klaxon.DiagnosisTimeout:
		return s.diagnosisTimeout(ctx, j)
	case klaxon.PostmortemDue:
		return s.postmortemReminder(ctx, j)
	}
	return fmt.Errorf("incident: unknown job %s", job.Kind())
}

func (s *Service) users(names []string) []klaxon.User {
	out := make([]klaxon.User, len(names))
	for i, n := range names {
		out[i] = s.user(n)
	}
	return out
}

// postJob posts one incident message on one channel.
func (s *Service) postJob(ctx context.Context, j klaxon.IncidentPost) error {
	ch := s.channels[j.Channel]
	people := s.users(j.Users)
	var err error
	if j.InRoom {
		inc, ierr := s.store.Incident(ctx, j.IncidentID)
		if ierr != nil {
			return ierr
		}
		rooms, ok := ch.(notify.Rooms)
		switch {
		case !ok || inc.Room.Channel != j.Channel:
			return nil // the room could not be opened: the announce channels have it
		case inc.Room.Ref == "":
			return errNotOpened
		}
		err = rooms.PostRoom(ctx, notify.RoomPost{Key: j.Key, Room: inc.Room.Ref, Text: j.Text, People: people})
	} else {
		pager, ok := ch.(notify.Pager)
		if !ok {
			s.log.Warn("incident post for a channel that cannot post; dropped", "channel", j.Channel, "incident", j.IncidentID)
			return nil
		}
		_, err = pager.Page(ctx, notify.PageDelivery{Key: j.Key, Text: j.Text, People: people})
	}
	if err == nil {
		incidentPosts.WithLabelValues(j.Channel, "ok").Inc()
		return nil
	}
	if !notify.IsPermanent(err) {
		return err
	}
	incidentPosts.WithLabelValues(j.Channel, "failed").Inc()
	s.log.Warn("incident post refused", "channel", j.Channel, "incident", j.IncidentID, "err", err)
	return s.record(ctx, j.IncidentID, fmt.Sprintf("Post on %s failed: %v", j.Channel, err))
}

// record adds a Klaxon entry to the timeline, whatever the status.
func (s *Service) record(ctx context.Context, id int64, text string) error {
	return s.note(ctx, id, "klaxon", klaxon.TimelineNote, text)
}

// invitees are the incident's people and whoever the escalation policy's
// first step calls now: the on-call engineer joins the room at once.
func (s *Service) invitees(ctx context.Context, inc *klaxon.Incident, now time.Time) []string {
	var names []string
	add := func(n string) {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	add(inc.Commander)
	add(inc.CommsLead)
	for _, r := range inc.Responders {
		add(r)
	}
	if p := s.policy(); p != nil && len(p.Steps) > 0 {
		for _, u := range s.stepUsers(ctx, p.Steps[0], now) {
			add(u)
		}
	}
	return names
}

func (s *Service) policy() *oncall.Policy {
	if s.oncall == nil || s.cfg.Escalation == "" {
		return nil
	}
	return s.oncall.Directory().Policies[s.cfg.Escalation]
}

// stepUsers are the people a step's targets name now: the on-call of each
// schedule, and users.
func (s *Service) stepUsers(ctx context.Context, step oncall.Step, now time.Time) []string {
	var out []string
	for _, t := range step.Targets {
		user := t.User
		if t.Schedule != "" {
			who, err := s.oncall.OnCall(ctx, t.Schedule, now)
			if err != nil || len(who) == 0 || who[0].Now == nil {
				continue
			}
			user = who[0].Now.User
		}
		if user != "" && !slices.Contains(out, user) {
			out = append(out, user)
		}
	}
	return out
}

// openRoom opens the incident's room and records it. A platform refusing
// for good leaves the incident without a room: its posts go to the
// announce channels only.
func (s *Service) openRoom(ctx context.Context, j klaxon.IncidentRoomOpen) error {
	inc, err := s.store.Incident(ctx, j.IncidentID)
	if err != nil || inc.Room.Ref != "" || inc.Room.Channel == "" {
		return err
	}
	rooms, ok := s.channels[inc.Room.Channel].(notify.Rooms)
	now := s.clock()
	var ref string
	if ok {
		ref, err = rooms.OpenRoom(ctx, notify.RoomRequest{
			Key:    roomKey(inc.ID),
			Name:   inc.Room.Name,
			Topic:  s.topic(inc),
			Text:   s.roomText(inc),
			Invite: s.users(s.invitees(ctx, inc, now)),
		})
		if err != nil && !notify.IsPermanent(err) {
			return err
		}
	} else {
		err = fmt.Errorf("channel %s cannot open rooms", inc.Room.Channel)
	}
	_, cerr := s.changeAny(ctx, inc.ID, true, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		if err != nil {
			failed := inc.Room.Channel
			inc.Room = klaxon.IncidentRoom{}
			return []*klaxon.TimelineEntry{{Actor: "klaxon", Kind: klaxon.TimelineRoom, Text: fmt.Sprintf("Could not open a room on %s: %v", failed, err)}}, nil
		}
		inc.Room.Ref = ref
		if i := checklistItem(inc, "channel"); i >= 0 && !inc.Checklist[i].Done() {
			inc.Checklist[i].DoneBy, inc.Checklist[i].DoneAt = "klaxon", now
		}
		// Roles may have changed while the room was being opened.
		if err := s.queueTopic(ctx, tx, inc, now); err != nil {
			return nil, err
		}
		return []*klaxon.TimelineEntry{{Actor: "klaxon", Kind: klaxon.TimelineRoom, Text: fmt.Sprintf("Opened room %s on %s", inc.Room.Name, inc.Room.Channel)}}, nil
	})
	return cerr
}

// checklistItem is the index of the first item mentioning word, or -1.
func checklistItem(inc *klaxon.Incident, word string) int {
	for i, c := range inc.Checklist {
		if strings.Contains(strings.ToLower(c.Text), word) {
			return i
		}
	}
	return -1
}

func (s *Service) setTopic(ctx context.Context, j klaxon.IncidentTopic) error {
	inc, err := s.store.Incident(ctx, j.IncidentID)
	if err != nil || inc.Room.Ref == "" {
		return err
	}
	rooms, ok := s.channels[inc.Room.Channel].(notify.Rooms)
	if !ok {
		return nil
	}
	if err := rooms.SetTopic(ctx, inc.Room.Ref, s.topic(inc)); err != nil && !notify.IsPermanent(err) {
		return err
	}
	return nil
}

// updateDue reminds the commander and comms lead of a due update, counts
// it missed, and queues the next reminder, unless an update came in since.
func (s *Service) updateDue(ctx context.Context, j klaxon.UpdateDue) error {
	_, err := s.changeAny(ctx, j.IncidentID, true, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		if !inc.Open() || !inc.NextUpdateAt.Equal(j.Due) {
			return nil, nil
		}
		inc.MissedUpdates++
		updatesMissed.Inc()
		if err := s.scheduleUpdate(ctx, tx, inc, now); err != nil {
			return nil, err
		}
		who := leads(inc)
		text := fmt.Sprintf("⏰ #%d status update due (%s cadence: every %s). %s, post one with `update …` (missed so far: %d).\n%s",
			inc.ID, s.levelName(inc.Level), FormatDuration(s.cadence(inc.Level)), strings.Join(who, " and "), inc.MissedUpdates, s.nextUpdateLine(inc))
		key := fmt.Sprintf("klaxon-incident-%d-due-%d", inc.ID, j.Due.UnixMicro())
		if err := s.post(ctx, tx, inc, key, text, who, false, now); err != nil {
			return nil, err
		}
		return []*klaxon.TimelineEntry{{Actor: "klaxon", Kind: klaxon.TimelineMissed,
			Text: fmt.Sprintf("due at %s, not posted; reminded %s", clock(j.Due), strings.Join(who, ", "))}}, nil
	})
	return err
}

// diagnosisTimeout escalates a most-severe incident still investigating:
// it runs the incidents' escalation policy one step at a time, each after
// the previous step's wait, while the cause is not identified.
func (s *Service) diagnosisTimeout(ctx context.Context, j klaxon.DiagnosisTimeout) error {
	p := s.policy()
	if p == nil || len(p.Steps) == 0 {
		return nil
	}
	_, err := s.changeAny(ctx, j.IncidentID, true, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		if !inc.Open() || inc.Level != 0 || inc.Status != klaxon.IncidentInvestigating || inc.EscalationStep != j.Step {
			return nil, nil
		}
		if j.Step >= len(p.Steps) {
			return nil, nil
		}
		if inc.EscalatedAt.IsZero() {
			inc.EscalatedAt = now
		}
		step := p.Steps[j.Step]
		users := s.stepUsers(ctx, step, now)
		text := fmt.Sprintf("🚨 #%d %s still investigating after %s: escalating (policy %s, step %d of %d). Paging %s. War room: join the incident room.",
			inc.ID, s.levelName(inc.Level), FormatDuration(now.Sub(inc.DeclaredAt).Round(time.Second)), p.Name, j.Step+1, len(p.Steps), nameList(users))
		key := fmt.Sprintf("klaxon-incident-%d-escalation-%d", inc.ID, j.Step)
		if err := s.post(ctx, tx, inc, key, text, users, true, now); err != nil {
			return nil, err
		}
		for _, t := range step.Targets {
			if t.Channel == "" || slices.Contains(s.cfg.Announce, t.Channel) || t.Channel == inc.Room.Channel {
				continue
			}
			pj := klaxon.IncidentPost{IncidentID: inc.ID, Channel: t.Channel, Key: key + "-" + t.Channel, Text: text, Users: users}
			if err := tx.Enqueue(ctx, pj, now); err != nil {
				return nil, err
			}
		}
		inc.EscalationStep = j.Step + 1
		if next := inc.EscalationStep; next < len(p.Steps) {
			// The next step waits its own `after`, else the most severe
			// level's ack deadline, as a group's escalation does.
			var due time.Time
			ok := false
			if after := p.Steps[next].After; after != nil {
				due, ok = now.Add(*after), true
			} else if dir := s.oncall.Directory(); len(dir.Deadlines) > 0 {
				due, ok = dir.Deadlines[0].From(now, dir.Business)
			}
			if ok {
				if err := tx.Enqueue(ctx, klaxon.DiagnosisTimeout{IncidentID: inc.ID, Step: next}, due); err != nil {
					return nil, err
				}
			}
		}
		return []*klaxon.TimelineEntry{{Actor: "klaxon", Kind: klaxon.TimelineEscalated,
			Text: fmt.Sprintf("No cause identified after %s: escalation step %d of %d (policy %s) paged %s", FormatDuration(s.cfg.DiagnosisTimeout), j.Step+1, len(p.Steps), p.Name, nameList(users))}}, nil
	})
	return err
}

func nameList(names []string) string {
	if len(names) == 0 {
		return "nobody (no one on call)"
	}
	return strings.Join(names, ", ")
}

// postmortemReminder asks for a due postmortem, again every
// PostmortemRemind until it is marked done.
func (s *Service) postmortemReminder(ctx context.Context, j klaxon.PostmortemDue) error {
	_, err := s.changeAny(ctx, j.IncidentID, true, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		if inc.Open() || inc.PostmortemDue.IsZero() || !inc.PostmortemDone.IsZero() {
			return nil, nil
		}
		when := "is due in " + FormatDuration(inc.PostmortemDue.Sub(now))
		if !now.Before(inc.PostmortemDue) {
			when = "is overdue by " + FormatDuration(now.Sub(inc.PostmortemDue))
		}
		who := leads(inc)
		text := fmt.Sprintf("📝 The postmortem of #%d %s %s (due %s). `klaxon postmortem %d` drafts it; say `postmortem done` (or `incident %d postmortem done`) once it is written.",
			inc.ID, inc.Title, when, inc.PostmortemDue.UTC().Format("Mon 2 Jan 15:04 UTC"), inc.ID, inc.ID)
		key := fmt.Sprintf("klaxon-incident-%d-postmortem-%d", inc.ID, j.At.UnixMicro())
		if err := s.post(ctx, tx, inc, key, text, who, true, now); err != nil {
			return nil, err
		}
		next := j.At.Add(s.cfg.PostmortemRemind)
		if err := tx.Enqueue(ctx, klaxon.PostmortemDue{IncidentID: inc.ID, At: next}, next); err != nil {
			return nil, err
		}
		return []*klaxon.TimelineEntry{{Actor: "klaxon", Kind: klaxon.TimelineReminder, Text: "Postmortem " + when + "; reminded " + strings.Join(who, ", ")}}, nil
	})
	return err
}
