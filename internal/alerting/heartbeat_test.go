package alerting_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
)

func watchdog() klaxon.Signal {
	return klaxon.Signal{Key: "wd-fp", Action: klaxon.ActionTrigger, StartsAt: t0, Summary: "Watchdog",
		Labels: map[string]string{"alertname": "Watchdog", "severity": "none"}}
}

func heartbeat(t *testing.T, store klaxon.Store, name string) klaxon.Heartbeat {
	t.Helper()
	hbs, err := store.Heartbeats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, hb := range hbs {
		if hb.Name == name {
			return hb
		}
	}
	t.Fatalf("heartbeat %s not stored", name)
	return klaxon.Heartbeat{}
}

func openAlerts(t *testing.T, store klaxon.Store) []*klaxon.Alert {
	t.Helper()
	all, err := store.Alerts(context.Background(), klaxon.AlertFilter{States: []klaxon.State{klaxon.StateFiring, klaxon.StateAcknowledged}})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestHeartbeatLifecycle(t *testing.T) {
	ctx := context.Background()
	s, store, c := newService(t, alerting.Options{Heartbeats: []alerting.HeartbeatConfig{
		{Name: "am-watchdog", AlertName: "Watchdog", Timeout: 5 * time.Minute, Severity: "critical"},
	}})
	if err := s.SyncHeartbeats(ctx); err != nil {
		t.Fatal(err)
	}
	if hb := heartbeat(t, store, "am-watchdog"); !hb.Deadline.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("new heartbeat deadline: got %v, want armed from start-up, %v", hb.Deadline, t0.Add(5*time.Minute))
	}
	check := func() {
		t.Helper()
		if err := s.HandleJob(ctx, klaxon.HeartbeatCheck{Name: "am-watchdog"}); err != nil {
			t.Fatalf("HandleJob: %v", err)
		}
	}

	// A Watchdog alert is a check-in, never an alert.
	c.Add(time.Minute)
	if r := ingest(t, s, "am", watchdog())[0]; r.Outcome != klaxon.OutcomeCheckIn || r.AlertID != 0 {
		t.Fatalf("Watchdog: got %+v, want a check-in", r)
	}
	if got := openAlerts(t, store); len(got) != 0 {
		t.Fatalf("Watchdog stored as %d alert(s)", len(got))
	}
	if hb := heartbeat(t, store, "am-watchdog"); !hb.Deadline.Equal(c.Now().Add(5*time.Minute)) || !hb.LastCheckIn.Equal(c.Now()) {
		t.Fatalf("after check-in: got %+v", hb)
	}

	// The job for the old deadline finds a newer check-in: nothing happens.
	c.Add(4*time.Minute + 30*time.Second)
	check()
	if got := openAlerts(t, store); len(got) != 0 {
		t.Fatalf("before the deadline: %d alert(s) raised", len(got))
	}

	// Past the deadline with no check-in: one alert, however often checked.
	c.Add(time.Minute)
	check()
	check()
	got := openAlerts(t, store)
	if len(got) != 1 {
		t.Fatalf("missed heartbeat: got %d open alerts, want 1", len(got))
	}
	missed := got[0]
	if missed.Name() != "HeartbeatMissed" || missed.Labels["heartbeat"] != "am-watchdog" || missed.Level != 0 || missed.Integration != alerting.HeartbeatIntegration {
		t.Errorf("missed alert: got %+v", missed)
	}

	// The next check-in resolves it.
	c.Add(time.Minute)
	if err := s.CheckIn(ctx, "am-watchdog"); err != nil {
		t.Fatal(err)
	}
	a, kinds := history(t, s, missed.ID)
	if a.State != klaxon.StateResolved || a.ResolvedBy != alerting.HeartbeatIntegration || fmt.Sprint(kinds) != "[fired resolved]" {
		t.Errorf("after check-in: got %s by %q, history %v", a.State, a.ResolvedBy, kinds)
	}

	// Missing again later is a new occurrence linked to the first.
	c.Add(10 * time.Minute)
	check()
	got = openAlerts(t, store)
	if len(got) != 1 || got[0].PreviousID != missed.ID {
		t.Fatalf("second miss: got %d alerts (%+v), want one linked to %d", len(got), got, missed.ID)
	}
}

func TestCheckInUnknownHeartbeat(t *testing.T) {
	s, _, _ := newService(t, alerting.Options{})
	err := s.CheckIn(context.Background(), "nope")
	if klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("got %v, want ENOTFOUND", err)
	}
}

func TestSyncHeartbeatsMovesDeadlineOnTimeoutChange(t *testing.T) {
	ctx := context.Background()
	s, store, c := newService(t, alerting.Options{Heartbeats: []alerting.HeartbeatConfig{{Name: "cron", Timeout: time.Hour}}})
	if err := s.SyncHeartbeats(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckIn(ctx, "cron"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	c.Add(time.Minute)
	s2 := alerting.New(store, alerting.Options{Now: c.Now, Heartbeats: []alerting.HeartbeatConfig{{Name: "cron", Timeout: 10 * time.Minute}}})
	defer s2.Close()
	if err := s2.SyncHeartbeats(ctx); err != nil {
		t.Fatal(err)
	}
	if hb := heartbeat(t, store, "cron"); !hb.Deadline.Equal(t0.Add(10*time.Minute)) || hb.Timeout != 10*time.Minute {
		t.Errorf("got deadline %v timeout %v, want %v and 10m (last check-in + new timeout)", hb.Deadline, hb.Timeout, t0.Add(10*time.Minute))
	}
}
