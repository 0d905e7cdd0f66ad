package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// errNotPosted makes a note wait (the job is retried with backoff) until
// the group's message exists to thread it under.
var errNotPosted = errors.New("the group's message is not posted yet")

// QueueNotes queues, in the caller's transaction, a post of diagnostics
// run d in the thread of each open group the alert is in, on each of the
// group's channels that has threads.
func (s *Service) QueueNotes(ctx context.Context, tx klaxon.Tx, alertID, diagnosticsID int64) (int, error) {
	if s.routes == nil {
		return 0, nil
	}
	groups, err := tx.AlertGroups(ctx, alertID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, g := range groups[alertID] {
		r := s.routes.Find(g.Route)
		if r == nil {
			continue
		}
		for _, name := range r.Receivers {
			if _, ok := s.channels[name].(Noter); !ok {
				continue
			}
			if err := tx.Enqueue(ctx, klaxon.PostNote{GroupID: g.ID, Channel: name, DiagnosticsID: diagnosticsID}, time.Time{}); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// postNote posts a diagnostics run under the group's message on one
// channel. A refusal for good is written into the alert's history, as for
// messages; anything else is retried by the job queue.
func (s *Service) postNote(ctx context.Context, j klaxon.PostNote) error {
	ch, ok := s.channels[j.Channel].(Noter)
	if !ok {
		return nil // the channel is gone from the configuration
	}
	msg, err := s.store.Message(ctx, j.GroupID, j.Channel)
	if err != nil {
		return err
	}
	if msg == nil || msg.Ref == "" {
		if msg != nil && msg.Sends == 0 && msg.LastError != "" {
			return nil // the message itself was refused: no thread to post in
		}
		return errNotPosted
	}
	d, err := s.store.DiagnosticsRun(ctx, j.DiagnosticsID)
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	a, err := s.store.Alert(ctx, d.AlertID)
	if err != nil {
		return err
	}
	note := DiagnosticsNote(d, a, s.baseURL)
	note.GroupID = j.GroupID
	err = ch.Note(ctx, NoteDelivery{Key: fmt.Sprintf("klaxon-note-%d-%d", j.GroupID, j.DiagnosticsID), Ref: msg.Ref, Note: note})
	switch {
	case err == nil:
		notificationsSent.WithLabelValues(j.Channel).Inc()
		return nil
	case IsPermanent(err):
		notificationsFailed.WithLabelValues(j.Channel).Inc()
		s.log.Error("channel refused a note; not retrying", "channel", j.Channel, "group", j.GroupID, "err", err)
		return s.store.Update(ctx, func(tx klaxon.Tx) error {
			return tx.AddEvents(ctx, klaxon.Event{
				AlertID: a.ID, At: s.now().UTC(), Kind: klaxon.EventNotifyFailed, Actor: j.Channel,
				Message: fmt.Sprintf("diagnostics note to %s failed: %v", j.Channel, err),
			})
		})
	}
	notificationsRetried.WithLabelValues(j.Channel).Inc()
	return err
}

// DiagnosticsNote presents a diagnostics run of alert a as a thread note.
func DiagnosticsNote(d *klaxon.Diagnostics, a *klaxon.Alert, baseURL string) *Note {
	m := &Message{BaseURL: baseURL}
	title := fmt.Sprintf("Diagnostics for alert %d: %s", a.ID, describe(a))
	if d.RequestedBy != "" {
		title += " (asked by " + d.RequestedBy + ")"
	}
	n := &Note{AlertID: a.ID, Title: title, URL: m.AlertURL(a.ID)}
	for _, r := range d.Results {
		n.Items = append(n.Items, NoteItem{
			Heading:   r.Command,
			Status:    ResultStatus(r),
			OK:        r.Status == klaxon.DiagnosticOK,
			Mark:      resultMarks[r.Status],
			Body:      r.Output,
			Truncated: r.Truncated,
		})
	}
	return n
}

// resultMarks show a command's outcome at a glance.
var resultMarks = map[klaxon.DiagnosticStatus]string{
	klaxon.DiagnosticOK:      "✅",
	klaxon.DiagnosticFailed:  "❌",
	klaxon.DiagnosticError:   "❌",
	klaxon.DiagnosticRefused: "⛔",
	klaxon.DiagnosticTimeout: "⏱",
}

// ResultStatus says in a few words how a command ended: "exit 0 in 0.4s",
// "refused: …", "timed out after 10s".
func ResultStatus(r klaxon.DiagnosticResult) string {
	took := r.Duration.Round(100 * time.Millisecond)
	if r.Duration < 100*time.Millisecond {
		took = r.Duration.Round(time.Millisecond)
	}
	switch r.Status {
	case klaxon.DiagnosticOK, klaxon.DiagnosticFailed:
		return fmt.Sprintf("exit %d in %s", r.ExitCode, took)
	case klaxon.DiagnosticTimeout:
		if r.Reason != "" {
			return r.Reason
		}
		return "timed out"
	}
	if r.Reason != "" {
		return string(r.Status) + ": " + r.Reason
	}
	return string(r.Status)
}
