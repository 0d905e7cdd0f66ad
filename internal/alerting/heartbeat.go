package alerting

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// HeartbeatIntegration is the integration name of the alerts Klaxon raises
// itself for missed heartbeats.
const HeartbeatIntegration = "heartbeat"

// CheckIn records a check-in of the named heartbeat.
func (s *Service) CheckIn(ctx context.Context, name string) error {
	if _, ok := s.heartbeats[name]; !ok {
		return klaxon.Errorf(klaxon.ENOTFOUND, "heartbeat %q is not configured", name)
	}
	txCtx := context.WithoutCancel(ctx) // see Ingest
	err := s.writes.do(ctx, 1, func(tx klaxon.Tx) error { return s.checkIn(txCtx, tx, name, s.now().UTC()) })
	if err != nil {
		return fmt.Errorf("heartbeat %s check-in: %w", name, err)
	}
	s.committed()
	alertsReceived.WithLabelValues(HeartbeatIntegration, string(klaxon.OutcomeCheckIn)).Inc()
	return nil
}

// checkIn moves the heartbeat's deadline, schedules the job that checks it,
// and resolves the missed-heartbeat alert if one is open.
func (s *Service) checkIn(ctx context.Context, tx klaxon.Tx, name string, now time.Time) error {
	cfg := s.heartbeats[name]
	hb, err := tx.Heartbeat(ctx, name)
	if err != nil {
		return err
	}
	if hb == nil {
		hb = &klaxon.Heartbeat{Name: name}
	}
	hb.Timeout, hb.LastCheckIn, hb.Deadline = cfg.Timeout, now, now.Add(cfg.Timeout)
	if hb.AlertID != 0 {
		if err := s.resolveMissed(ctx, tx, hb.AlertID, now); err != nil {
			return err
		}
		hb.AlertID = 0
	}
	if err := tx.SaveHeartbeat(ctx, hb); err != nil {
		return err
	}
	return tx.Enqueue(ctx, klaxon.HeartbeatCheck{Name: name}, hb.Deadline)
}

func (s *Service) resolveMissed(ctx context.Context, tx klaxon.Tx, id int64, now time.Time) error {
	a, err := tx.AlertForUpdate(ctx, id)
	if err != nil {
		return err
	}
	if !a.State.Open() {
		return nil // a person resolved it already
	}
	a, _, ev := klaxon.Observe(a, HeartbeatIntegration, klaxon.Signal{Key: a.Key, Action: klaxon.ActionResolve}, a.Level, now)
	if err := tx.UpdateAlert(ctx, a); err != nil {
		return err
	}
	ev.Message = "check-in received"
	if err := tx.AddEvents(ctx, *ev); err != nil {
		return err
	}
	return s.changed(ctx, tx, klaxon.AlertChange{Alert: a, Kind: ev.Kind})
}

// SyncHeartbeats makes stored heartbeats match the configuration: a new
// heartbeat is armed from now (a dead man's switch that never checks in must
// still alert), and a changed timeout moves the deadline.
func (s *Service) SyncHeartbeats(ctx context.Context) error {
	for name, cfg := range s.heartbeats {
		err := s.store.Update(ctx, func(tx klaxon.Tx) error {
			hb, err := tx.Heartbeat(ctx, name)
			if err != nil {
				return err
			}
			now := s.now().UTC()
			switch {
			case hb == nil:
				hb = &klaxon.Heartbeat{Name: name, Timeout: cfg.Timeout, Deadline: now.Add(cfg.Timeout)}
			case hb.Timeout != cfg.Timeout:
				from := hb.LastCheckIn
				if from.IsZero() {
					from = now
				}
				hb.Timeout, hb.Deadline = cfg.Timeout, from.Add(cfg.Timeout)
			default:
				return nil
			}
			if err := tx.SaveHeartbeat(ctx, hb); err != nil {
				return err
			}
			return tx.Enqueue(ctx, klaxon.HeartbeatCheck{Name: name}, hb.Deadline)
		})
		if err != nil {
			return fmt.Errorf("sync heartbeat %s: %w", name, err)
		}
	}
	return nil
}

// HandleJob works the service's durable jobs.
func (s *Service) HandleJob(ctx context.Context, job klaxon.Job) error {
	switch j := job.(type) {
	case klaxon.HeartbeatCheck:
		return s.checkDeadline(ctx, j.Name)
	default:
		return fmt.Errorf("unknown job kind %q", job.Kind())
	}
}

// checkDeadline raises the missed-heartbeat alert if the deadline passed
// with no check-in. It is idempotent: a check-in since, an alert already
// open, or a heartbeat removed from config all make it a no-op.
func (s *Service) checkDeadline(ctx context.Context, name string) error {
	cfg, ok := s.heartbeats[name]
	if !ok {
		return nil
	}
	err := s.store.Update(ctx, func(tx klaxon.Tx) error {
		hb, err := tx.Heartbeat(ctx, name)
		if err != nil || hb == nil {
			return err
		}
		now := s.now().UTC()
		if now.Before(hb.Deadline) || hb.AlertID != 0 {
			return nil
		}
		summary := fmt.Sprintf("Heartbeat %s missed: no check-in for %s", name, cfg.Timeout)
		if !hb.LastCheckIn.IsZero() {
			summary += " (last at " + hb.LastCheckIn.Format(time.RFC3339) + ")"
		}
		sig := klaxon.Signal{
			Key:      name,
			Action:   klaxon.ActionTrigger,
			Severity: cfg.Severity,
			Summary:  summary,
			Labels:   map[string]string{"alertname": "HeartbeatMissed", "heartbeat": name, s.severity.Label: cfg.Severity},
			Annotations: map[string]string{
				"summary":     summary,
				"description": "Whatever feeds this heartbeat stopped checking in. If it is Alertmanager's Watchdog, the alert pipeline itself may be down.",
			},
		}
		latest, err := tx.LatestAlerts(ctx, HeartbeatIntegration, []string{name})
		if err != nil {
			return err
		}
		a, _, ev, err := s.observe(ctx, tx, latest[name], HeartbeatIntegration, sig, now)
		if err != nil || a == nil {
			return err
		}
		hb.AlertID = a.ID
		s.log.Warn("heartbeat missed", "heartbeat", name, "alert", a.ID, "last_check_in", hb.LastCheckIn)
		if err := tx.SaveHeartbeat(ctx, hb); err != nil {
			return err
		}
		if ev == nil {
			return nil
		}
		if err := tx.AddEvents(ctx, *ev); err != nil {
			return err
		}
		return s.changed(ctx, tx, klaxon.AlertChange{Alert: a, Kind: ev.Kind})
	})
	if err == nil {
		s.committed()
	}
	return err
}
