package klaxon

import (
	"context"
	"time"
)

// Store is where Klaxon keeps its state and its durable jobs. Implementations
// (internal/sqlite, internal/postgres) hold no business rules: the services
// decide, the store persists. internal/storetest is the contract every
// implementation must pass.
type Store interface {
	// Update runs fn in one transaction and commits if fn returns nil. Jobs
	// enqueued through the Tx commit or roll back with it.
	Update(ctx context.Context, fn func(Tx) error) error

	// Alert returns one alert, or an ENOTFOUND error.
	Alert(ctx context.Context, id int64) (*Alert, error)
	// Alerts lists alerts, newest first.
	Alerts(ctx context.Context, f AlertFilter) ([]*Alert, error)
	// AlertEvents returns an alert's history, oldest first.
	AlertEvents(ctx context.Context, alertID int64) ([]Event, error)
	// Heartbeats lists every stored heartbeat by name.
	Heartbeats(ctx context.Context) ([]Heartbeat, error)

	// StartJobs starts working durable jobs with h until ctx ends or the store
	// is closed.
	StartJobs(ctx context.Context, h JobHandler) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close stops job workers and releases the database.
	Close() error
}

// Tx is the set of reads and writes a service may do inside Store.Update.
type Tx interface {
	// LatestAlerts returns, for each key, the most recent occurrence of the
	// alert (open or resolved) from the given integration. Keys without any
	// occurrence are absent from the map. Rows are locked for the rest of the
	// transaction where the database supports it.
	LatestAlerts(ctx context.Context, integration string, keys []string) (map[string]*Alert, error)
	// AlertForUpdate returns one alert and locks it, or an ENOTFOUND error.
	AlertForUpdate(ctx context.Context, id int64) (*Alert, error)
	// InsertAlert stores a new alert and sets its ID.
	InsertAlert(ctx context.Context, a *Alert) error
	// UpdateAlert stores every field of an existing alert.
	UpdateAlert(ctx context.Context, a *Alert) error
	// AddEvents appends entries to alerts' histories.
	AddEvents(ctx context.Context, events ...Event) error

	// Heartbeat returns a stored heartbeat, or nil if there is none by that name.
	Heartbeat(ctx context.Context, name string) (*Heartbeat, error)
	// SaveHeartbeat inserts or replaces a heartbeat.
	SaveHeartbeat(ctx context.Context, hb *Heartbeat) error

	// Enqueue schedules a durable job to run at runAt (or now, if zero).
	Enqueue(ctx context.Context, job Job, runAt time.Time) error
}

// Job is durable work to do later. Its fields are stored as JSON.
type Job interface {
	Kind() string
}

// JobHandler does the work of a job. An error means the job is retried later
// with backoff, so handlers must be idempotent.
type JobHandler interface {
	HandleJob(ctx context.Context, job Job) error
}
