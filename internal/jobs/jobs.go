// Package jobs runs Klaxon's durable jobs on River, for whichever database
// driver the store uses. Jobs are inserted in the caller's transaction, so a
// job exists exactly when the change that caused it committed.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/klaxon-oss/klaxon"
)

var (
	jobsWorked = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_jobs_worked_total",
		Help: "Durable jobs worked, by kind and outcome (ok, error).",
	}, []string{"kind", "outcome"})
	jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "klaxon_job_duration_seconds",
		Help:    "Time spent working a durable job, by kind.",
		Buckets: prometheus.DefBuckets,
	}, []string{"kind"})
)

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector { return []prometheus.Collector{jobsWorked, jobDuration} }

// Queue inserts and works jobs through River.
type Queue[TTx any] struct {
	client  *river.Client[TTx]
	handler atomic.Pointer[klaxon.JobHandler]
}

// Options tunes a Queue.
type Options struct {
	Logger *slog.Logger
	// PollInterval is how often workers look for due jobs. SQLite has no
	// LISTEN/NOTIFY, so this bounds how late a job runs there.
	PollInterval time.Duration
	MaxWorkers   int
	// DiagnosticsWorkers works diagnostics runs in a queue of their own, so
	// slow commands never hold up reminders, notes or heartbeat checks.
	DiagnosticsWorkers int
}

// queueDiagnostics is the queue of RunDiagnostics jobs.
const queueDiagnostics = "diagnostics"

// Migrate brings River's own tables up to date.
func Migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: discard})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	return nil
}

var discard = slog.New(slog.DiscardHandler)

// New returns a Queue on driver. Jobs are worked only after Start.
func New[TTx any](driver riverdriver.Driver[TTx], opts Options) (*Queue[TTx], error) {
	q := &Queue[TTx]{}
	workers := river.NewWorkers()
	register[klaxon.HeartbeatCheck](workers, q.work)
	register[klaxon.GroupReminder](workers, q.work)
	register[klaxon.RunDiagnostics](workers, q.work)
	register[klaxon.PostNote](workers, q.work)
	register[klaxon.EscalationStep](workers, q.work)
	register[klaxon.Page](workers, q.work)
	register[klaxon.HandoffNotice](workers, q.work)
	register[klaxon.IncidentPost](workers, q.work)
	register[klaxon.IncidentRoomOpen](workers, q.work)
	register[klaxon.IncidentTopic](workers, q.work)
	register[klaxon.UpdateDue](workers, q.work)
	register[klaxon.DiagnosisTimeout](workers, q.work)
	register[klaxon.PostmortemDue](workers, q.work)

	logger := opts.Logger
	if logger == nil {
		logger = discard
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = river.FetchPollIntervalDefault
	}
	maxWorkers := opts.MaxWorkers
	if maxWorkers <= 0 {
		maxWorkers = 10
	}
	if opts.DiagnosticsWorkers <= 0 {
		opts.DiagnosticsWorkers = 4
	}
	client, err := river.NewClient(driver, &river.Config{
		Logger: slog.New(newQuietHandler(logger.Handler(), 10*time.Second)).With("component", "jobs"),
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: maxWorkers},
			queueDiagnostics:   {MaxWorkers: opts.DiagnosticsWorkers},
		},
		Workers:           workers,
		FetchPollInterval: opts.PollInterval,
		FetchCooldown:     min(opts.PollInterval, river.FetchCooldownDefault),
		// A diagnostics run is several commands, each with its own timeout.
		JobTimeout: 5 * time.Minute,
		// A job whose replica died mid-run is worked again this long
		// after it started (River's default is an hour): just over the
		// longest a job may run, so a live worker is never doubled.
		RescueStuckJobsAfter: 6 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	q.client = client
	return q, nil
}

// register makes River work jobs of type T by handing them to the Queue's
// handler. Every klaxon job type is registered here, one line each.
func register[T interface {
	river.JobArgs
	klaxon.Job
}](w *river.Workers, work func(context.Context, klaxon.Job) error) {
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[T]) error {
		return work(ctx, j.Args)
	}))
}

func (q *Queue[TTx]) work(ctx context.Context, job klaxon.Job) error {
	h := q.handler.Load()
	if h == nil {
		return errors.New("job handler not started")
	}
	start := time.Now()
	err := (*h).HandleJob(ctx, job)
	jobDuration.WithLabelValues(job.Kind()).Observe(time.Since(start).Seconds())
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	jobsWorked.WithLabelValues(job.Kind(), outcome).Inc()
	return err
}

// Insert adds job to tx, to run at runAt (now if zero).
func (q *Queue[TTx]) Insert(ctx context.Context, tx TTx, job klaxon.Job, runAt time.Time) error {
	args, ok := job.(river.JobArgs)
	if !ok {
		return fmt.Errorf("job %T cannot be queued", job)
	}
	opts := &river.InsertOpts{ScheduledAt: runAt}
	switch job.(type) {
	case klaxon.RunDiagnostics:
		opts.Queue = queueDiagnostics
	case klaxon.HandoffNotice:
		// Every replica queues the next hand-off at start and after an
		// override; one job per schedule and time is enough.
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true}
	}
	if _, err := q.client.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("insert %s job: %w", job.Kind(), err)
	}
	return nil
}

// Start works jobs with h until Stop.
func (q *Queue[TTx]) Start(ctx context.Context, h klaxon.JobHandler) error {
	q.handler.Store(&h)
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start job workers: %w", err)
	}
	return nil
}

// Stop waits for running jobs to finish, up to ctx's deadline. It is a no-op
// if the queue was never started.
func (q *Queue[TTx]) Stop(ctx context.Context) error {
	if q.handler.Load() == nil {
		return nil
	}
	return q.client.Stop(ctx)
}
