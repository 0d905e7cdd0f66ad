package diagnose

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

// Notes posts a diagnostics run in the alert's chat threads: the notifier.
type Notes interface {
	QueueNotes(ctx context.Context, tx klaxon.Tx, alertID, diagnosticsID int64) (int, error)
}

// ServiceOptions configures a Service.
type ServiceOptions struct {
	// MaxAutoRuns bounds the runs started by alerts firing, per minute, so
	// a storm of 500 crash-looping pods does not run 500 ladders against
	// the cluster that is already struggling. Runs people ask for always
	// run. Default 30.
	MaxAutoRuns int
	Logger      *slog.Logger
	Now         func() time.Time
}

// Service runs runbook diagnostics: it queues a durable job when an alert
// with a runnable runbook fires (or someone asks), works it with the
// Runner, keeps the output with the alert and has it posted in the alert's
// chat threads.
type Service struct {
	store    klaxon.Store
	runner   *Runner
	runbooks *runbook.Catalog
	notes    Notes
	log      *slog.Logger
	now      func() time.Time
	maxAuto  int

	mu          sync.Mutex
	windowStart time.Time
	windowRuns  int
}

// NewService returns a Service. It is an AlertObserver: give it to the
// alerting service so firing alerts queue their diagnostics.
func NewService(store klaxon.Store, runner *Runner, runbooks *runbook.Catalog, notes Notes, opts ServiceOptions) *Service {
	s := &Service{store: store, runner: runner, runbooks: runbooks, notes: notes, log: opts.Logger, now: opts.Now, maxAuto: opts.MaxAutoRuns}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxAuto <= 0 {
		s.maxAuto = 30
	}
	return s
}

// AlertsChanged queues diagnostics for alerts that fired, in the
// alert's own transaction, when their runbook has steps to run. Past the
// per-minute budget an alert gets a line in its history instead, so a
// storm neither floods the job queue nor runs a ladder per alert.
func (s *Service) AlertsChanged(ctx context.Context, tx klaxon.Tx, changes []klaxon.AlertChange) error {
	set := s.runbooks.Current()
	var skipped []klaxon.Event
	for _, c := range changes {
		if c.Kind != klaxon.EventFired && c.Kind != klaxon.EventRefired {
			continue
		}
		if rb := set.Match(c.Alert.Labels); rb == nil || len(rb.RunSteps()) == 0 {
			continue
		}
		if !s.allowAuto() {
			skipped = append(skipped, klaxon.Event{AlertID: c.Alert.ID, At: s.now().UTC(), Kind: klaxon.EventDiagnosed, Actor: "klaxon",
				Message: fmt.Sprintf("diagnostics not run: more than %d alerts a minute started them; say `diagnose %d` to run them", s.maxAuto, c.Alert.ID)})
			continue
		}
		if err := tx.Enqueue(ctx, klaxon.RunDiagnostics{AlertID: c.Alert.ID}, time.Time{}); err != nil {
			return err
		}
	}
	if len(skipped) == 0 {
		return nil
	}
	s.log.Warn("diagnostics not run: too many alerts firing at once", "alerts", len(skipped), "max_per_minute", s.maxAuto)
	return tx.AddEvents(ctx, skipped...)
}

// Committed is a no-op: the job queue picks the jobs up itself.
func (s *Service) Committed() {}

// Request queues an alert's diagnostics on behalf of actor ("diagnose 12")
// and says how many commands will run.
func (s *Service) Request(ctx context.Context, alertID int64, actor string) (int, error) {
	a, err := s.store.Alert(ctx, alertID)
	if err != nil {
		return 0, err
	}
	rb := s.runbooks.Current().Match(a.Labels)
	if rb == nil {
		return 0, klaxon.Errorf(klaxon.EINVALID, "No runbook matches alert %d (%s), so there is nothing to run", a.ID, a.Name())
	}
	steps := rb.RunSteps()
	if len(steps) == 0 {
		return 0, klaxon.Errorf(klaxon.EINVALID, "Runbook %s has no steps to run: fence them as ```diagnose", rb.Slug)
	}
	n := 0
	for _, st := range steps {
		n += len(Commands(st.Text))
	}
	err = s.store.Update(ctx, func(tx klaxon.Tx) error {
		return tx.Enqueue(ctx, klaxon.RunDiagnostics{AlertID: a.ID, RequestedBy: actor}, time.Time{})
	})
	return n, err
}

// HandleJob runs one alert's diagnostics and stores the output, queueing
// its posts in the alert's threads in the same transaction. A run that
// crashes half-way is run again by the job queue: the commands are
// read-only, so a repeat costs time, not harm.
func (s *Service) HandleJob(ctx context.Context, job klaxon.Job) error {
	j, ok := job.(klaxon.RunDiagnostics)
	if !ok {
		return fmt.Errorf("diagnose: unknown job kind %q", job.Kind())
	}
	a, err := s.store.Alert(ctx, j.AlertID)
	if klaxon.ErrorCode(err) == klaxon.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	rb := s.runbooks.Current().Match(a.Labels)
	if rb == nil || len(rb.RunSteps()) == 0 {
		return nil // the runbook changed since the job was queued
	}
	if j.RequestedBy == "" && a.State == klaxon.StateResolved {
		return nil // resolved before its turn came: nothing left to diagnose
	}
	var texts []string
	for _, st := range rb.RunSteps() {
		texts = append(texts, st.Text)
	}
	d := &klaxon.Diagnostics{AlertID: a.ID, Runbook: rb.Slug, RequestedBy: j.RequestedBy, StartedAt: s.now().UTC()}
	d.Results = s.runner.Run(ctx, texts, runbook.VarsOf(a))
	d.FinishedAt = s.now().UTC()
	actor := j.RequestedBy
	if actor == "" {
		actor = "klaxon"
	}
	return s.store.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.InsertDiagnostics(ctx, d); err != nil {
			return err
		}
		ev := klaxon.Event{AlertID: a.ID, At: d.FinishedAt, Kind: klaxon.EventDiagnosed, Actor: actor,
			Message: fmt.Sprintf("ran the diagnostics of runbook %s: %s", rb.Slug, Summary(d.Results))}
		if err := tx.AddEvents(ctx, ev); err != nil {
			return err
		}
		_, err := s.notes.QueueNotes(ctx, tx, a.ID, d.ID)
		return err
	})
}

// allowAuto counts an automatic run against the per-minute budget. A
// transaction that rolls back has used its share: the budget errs on the
// side of running less.
func (s *Service) allowAuto() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Sub(s.windowStart) >= time.Minute {
		s.windowStart, s.windowRuns = now, 0
	}
	if s.windowRuns >= s.maxAuto {
		return false
	}
	s.windowRuns++
	return true
}

// Summary counts results by status: "3 commands: 2 ok, 1 refused".
func Summary(results []klaxon.DiagnosticResult) string {
	counts := map[klaxon.DiagnosticStatus]int{}
	for _, r := range results {
		counts[r.Status]++
	}
	var parts []string
	for _, st := range []klaxon.DiagnosticStatus{klaxon.DiagnosticOK, klaxon.DiagnosticFailed, klaxon.DiagnosticTimeout, klaxon.DiagnosticRefused, klaxon.DiagnosticError} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	noun := "commands"
	if len(results) == 1 {
		noun = "command"
	}
	return fmt.Sprintf("%d %s: %s", len(results), noun, strings.Join(parts, ", "))
}
