// Package alerting is the alert lifecycle service: it applies what sources
// report (through group commit, so ingest scales with rows, not fsyncs), lets
// people acknowledge and resolve, and keeps heartbeats. It holds no SQL and no
// HTTP; the rules themselves are in package klaxon (Observe, Acknowledge…).
package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxon-oss/klaxon"
)

var alertsReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "klaxon_alerts_received_total",
	Help: "Alerts received from sources and committed, by integration and outcome (created, refired, updated, repeated, acknowledged, resolved, ignored, checkin).",
}, []string{"integration", "outcome"})

var batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
	Name:    "klaxon_ingest_batch_alerts",
	Help:    "Alerts per ingest request.",
	Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
})

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector { return []prometheus.Collector{alertsReceived, batchSize} }

// Options configures a Service.
type Options struct {
	Severity   klaxon.SeverityPolicy
	Heartbeats []HeartbeatConfig
	// Writers is how many group-commit transactions may run at once. SQLite
	// has one writer, so more than 1 only helps PostgreSQL.
	Writers int
	// MaxBatchAlerts caps the signals committed in one transaction.
	MaxBatchAlerts int
	Now            func() time.Time
	Logger         *slog.Logger
	// Observer hears of every change in the transaction that makes it
	// (notifications); nil for none.
	Observer klaxon.AlertObserver
}

// HeartbeatConfig is one configured heartbeat.
type HeartbeatConfig struct {
	Name      string
	AlertName string // alerts with this alertname are check-ins (e.g. Watchdog)
	Timeout   time.Duration
	Severity  string // severity of the missed-heartbeat alert
}

// Service is the alert lifecycle.
type Service struct {
	store      klaxon.Store
	severity   klaxon.SeverityPolicy
	heartbeats map[string]HeartbeatConfig // by name
	byAlert    map[string]string          // alertname → heartbeat name
	now        func() time.Time
	log        *slog.Logger
	writes     *groupCommit
	observer   klaxon.AlertObserver
}

// New returns a Service on store. Call Close to drain pending writes.
func New(store klaxon.Store, opts Options) *Service {
	s := &Service{
		store:      store,
		severity:   opts.Severity,
		heartbeats: make(map[string]HeartbeatConfig),
		byAlert:    make(map[string]string),
		now:        opts.Now,
		log:        opts.Logger,
		observer:   opts.Observer,
	}
	if s.severity.Names == nil {
		s.severity = klaxon.DefaultSeverityPolicy()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, hb := range opts.Heartbeats {
		s.heartbeats[hb.Name] = hb
		if hb.AlertName != "" {
			s.byAlert[hb.AlertName] = hb.Name
		}
	}
	maxBatch := opts.MaxBatchAlerts
	if maxBatch <= 0 {
		maxBatch = 2000
	}
	s.writes = newGroupCommit(store, opts.Writers, maxBatch)
	return s
}

// Close waits for queued writes to commit and refuses new ones.
func (s *Service) Close() { s.writes.close() }

// Severity returns the severity policy, for display.
func (s *Service) Severity() klaxon.SeverityPolicy { return s.severity }

// Result is what Ingest did with one signal.
type Result struct {
	AlertID int64 // 0 for check-ins and ignored signals
	Outcome klaxon.Outcome
}

// Ingest applies signals from one integration and returns once they are
// committed. Signals are applied in order, so a batch may fire and resolve
// the same key.
func (s *Service) Ingest(ctx context.Context, integration string, signals []klaxon.Signal) ([]Result, error) {
	results := make([]Result, len(signals))
	// The transaction may be shared with other requests: one caller going
	// away must not abort it. (It also spares the SQLite driver a watcher
	// goroutine per statement for a cancellable context.)
	txCtx := context.WithoutCancel(ctx)
	err := s.writes.do(ctx, len(signals), func(tx klaxon.Tx) error {
		return s.apply(txCtx, tx, integration, signals, results)
	})
	if err != nil {
		return nil, fmt.Errorf("ingest from %s: %w", integration, err)
	}
	s.committed()
	batchSize.Observe(float64(len(signals)))
	counts := map[klaxon.Outcome]int{}
	for _, r := range results {
		counts[r.Outcome]++
	}
	for outcome, n := range counts {
		alertsReceived.WithLabelValues(integration, string(outcome)).Add(float64(n))
	}
	return results, nil
}

func (s *Service) apply(ctx context.Context, tx klaxon.Tx, integration string, signals []klaxon.Signal, results []Result) error {
	now := s.now().UTC()
	keys := make([]string, 0, len(signals))
	for _, sig := range signals {
		if s.checkInName(sig) == "" {
			keys = append(keys, sig.Key)
		}
	}
	latest, err := tx.LatestAlerts(ctx, integration, keys)
	if err != nil {
		return err
	}
	var events []klaxon.Event
	var changes []klaxon.AlertChange
	for i, sig := range signals {
		if name := s.checkInName(sig); name != "" {
			if err := s.checkIn(ctx, tx, name, now); err != nil {
				return err
			}
			results[i] = Result{Outcome: klaxon.OutcomeCheckIn}
			continue
		}
		a, outcome, ev, err := s.observe(ctx, tx, latest[sig.Key], integration, sig, now)
		if err != nil {
			return err
		}
		if a != nil {
			latest[sig.Key] = a
			results[i] = Result{AlertID: a.ID, Outcome: outcome}
		} else {
			results[i] = Result{Outcome: outcome}
		}
		if ev != nil {
			events = append(events, *ev)
			changes = append(changes, klaxon.AlertChange{Alert: a, Kind: ev.Kind})
		}
	}
	if err := tx.AddEvents(ctx, events...); err != nil {
		return err
	}
	return s.changed(ctx, tx, changes...)
}

// changed tells the observer of changes, in the transaction making them.
func (s *Service) changed(ctx context.Context, tx klaxon.Tx, changes ...klaxon.AlertChange) error {
	if s.observer == nil || len(changes) == 0 {
		return nil
	}
	return s.observer.AlertsChanged(ctx, tx, changes)
}

// committed tells the observer a transaction that may have changed alerts
// committed.
func (s *Service) committed() {
	if s.observer != nil {
		s.observer.Committed()
	}
}

// observe applies one signal and writes the alert; the event is returned
// with its AlertID set, for the caller to record.
func (s *Service) observe(ctx context.Context, tx klaxon.Tx, latest *klaxon.Alert, integration string, sig klaxon.Signal, now time.Time) (*klaxon.Alert, klaxon.Outcome, *klaxon.Event, error) {
	if sig.Severity == "" {
		sig.Severity = sig.Labels[s.severity.Label]
	}
	a, outcome, ev := klaxon.Observe(latest, integration, sig, s.severity.Level(sig.Severity), now)
	if a == nil {
		return nil, outcome, nil, nil
	}
	var err error
	if a.ID == 0 {
		err = tx.InsertAlert(ctx, a)
	} else {
		err = tx.UpdateAlert(ctx, a)
	}
	if err != nil {
		return nil, "", nil, err
	}
	if ev != nil {
		ev.AlertID = a.ID
	}
	return a, outcome, ev, nil
}

// checkInName returns the heartbeat a signal checks in, or "".
func (s *Service) checkInName(sig klaxon.Signal) string {
	if sig.Action != klaxon.ActionTrigger {
		return ""
	}
	return s.byAlert[sig.Labels["alertname"]]
}

// Ack acknowledges alert id on actor's behalf.
func (s *Service) Ack(ctx context.Context, id int64, actor string) (*klaxon.Alert, error) {
	return s.change(ctx, id, func(a *klaxon.Alert, now time.Time) (klaxon.Event, error) { return a.Acknowledge(actor, now) })
}

// Unack returns an acknowledged alert to firing.
func (s *Service) Unack(ctx context.Context, id int64, actor string) (*klaxon.Alert, error) {
	return s.change(ctx, id, func(a *klaxon.Alert, now time.Time) (klaxon.Event, error) { return a.Unacknowledge(actor, now) })
}

// Resolve resolves an open alert on actor's word.
func (s *Service) Resolve(ctx context.Context, id int64, actor string) (*klaxon.Alert, error) {
	return s.change(ctx, id, func(a *klaxon.Alert, now time.Time) (klaxon.Event, error) { return a.Resolve(actor, now) })
}

func (s *Service) change(ctx context.Context, id int64, fn func(*klaxon.Alert, time.Time) (klaxon.Event, error)) (*klaxon.Alert, error) {
	var out *klaxon.Alert
	err := s.store.Update(ctx, func(tx klaxon.Tx) error {
		a, err := tx.AlertForUpdate(ctx, id)
		if err != nil {
			return err
		}
		ev, err := fn(a, s.now().UTC())
		if err != nil {
			return err
		}
		if err := tx.UpdateAlert(ctx, a); err != nil {
			return err
		}
		out = a
		if err := tx.AddEvents(ctx, ev); err != nil {
			return err
		}
		return s.changed(ctx, tx, klaxon.AlertChange{Alert: a, Kind: ev.Kind, ByPerson: true})
	})
	if err == nil {
		s.committed()
	}
	return out, err
}

// Alert returns one alert and its history.
func (s *Service) Alert(ctx context.Context, id int64) (*klaxon.Alert, []klaxon.Event, error) {
	a, err := s.store.Alert(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	events, err := s.store.AlertEvents(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return a, events, nil
}

// Messages lists the chat messages and pages the alert's groups produced.
func (s *Service) Messages(ctx context.Context, id int64) ([]klaxon.Message, error) {
	return s.store.AlertMessages(ctx, id)
}

// Diagnostics lists the alert's diagnostics runs, newest first.
func (s *Service) Diagnostics(ctx context.Context, id int64) ([]*klaxon.Diagnostics, error) {
	return s.store.Diagnostics(ctx, id)
}

// Alerts lists alerts, newest first.
func (s *Service) Alerts(ctx context.Context, f klaxon.AlertFilter) ([]*klaxon.Alert, error) {
	return s.store.Alerts(ctx, f)
}
