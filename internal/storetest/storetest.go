// Package storetest is the contract every klaxon.Store must pass. Each
// implementation's tests call Run with a constructor for a fresh, empty store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// Run runs the contract against stores made by open. open must return an
// empty store whose job workers poll often (tens of milliseconds) and must
// arrange for it to be closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) klaxon.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s klaxon.Store)
	}{
		{"InsertAndReadBack", testInsertAndReadBack},
		{"IDsIncrease", testIDsIncrease},
		{"UpdateAlert", testUpdateAlert},
		{"UpdateUnknownAlert", testUpdateUnknownAlert},
		{"LatestAlerts", testLatestAlerts},
		{"OneOpenAlertPerKey", testOneOpenAlertPerKey},
		{"RollbackKeepsNothing", testRollbackKeepsNothing},
		{"ListFilters", testListFilters},
		{"Events", testEvents},
		{"Heartbeats", testHeartbeats},
		{"JobsRunOnlyWhenCommitted", testJobsRunOnlyWhenCommitted},
		{"Ping", func(t *testing.T, s klaxon.Store) {
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 21, 4, 43, 0, 942000000, time.UTC)

func newAlert(key string) *klaxon.Alert {
	return &klaxon.Alert{
		Integration: "am",
		Key:         key,
		State:       klaxon.StateFiring,
		Level:       0,
		Severity:    "critical",
		Summary:     "Pod is crash looping.",
		Labels:      map[string]string{"alertname": "KubePodCrashLooping", "namespace": "payments", "pod": key},
		Annotations: map[string]string{"summary": "Pod is crash looping.", "runbook_url": "https://runbooks.example/x"},
		StartsAt:    t0,
		FirstSeen:   t0.Add(time.Second),
		LastSeen:    t0.Add(time.Second),
		Count:       1,
	}
}

func insert(t *testing.T, s klaxon.Store, alerts ...*klaxon.Alert) {
	t.Helper()
	err := s.Update(context.Background(), func(tx klaxon.Tx) error {
		for _, a := range alerts {
			if err := tx.InsertAlert(context.Background(), a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
}

func testInsertAndReadBack(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	prev := newAlert("prev")
	prev.State = klaxon.StateResolved
	prev.ResolvedBy, prev.ResolvedAt = "am", t0.Add(time.Minute)
	insert(t, s, prev)

	want := newAlert("p1")
	want.Details = json.RawMessage(`{"free_space":"1%","nested":{"a":[1,2]}}`)
	want.Links = []klaxon.Link{{Href: "https://runbooks.example/disk", Text: "runbook"}}
	want.SourceURL = "http://prometheus/graph?g0.expr=up"
	want.State = klaxon.StateAcknowledged
	want.AckedBy, want.AckedAt = "ops-cli", t0.Add(2*time.Minute+123456*time.Microsecond)
	want.PreviousID = prev.ID
	insert(t, s, want)
	if want.ID == 0 {
		t.Fatal("InsertAlert did not set ID")
	}
	got, err := s.Alert(ctx, want.ID)
	if err != nil {
		t.Fatalf("Alert(%d): %v", want.ID, err)
	}
	assertAlert(t, got, want)
}

func assertAlert(t *testing.T, got, want *klaxon.Alert) {
	t.Helper()
	// Details is JSON: compare meaning, not bytes (PostgreSQL's jsonb reorders).
	gotDetails, wantDetails := decodeJSON(t, got.Details), decodeJSON(t, want.Details)
	g, w := *got, *want
	g.Details, w.Details = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("alert read back differs:\n got %+v\nwant %+v", g, w)
	}
	if !reflect.DeepEqual(gotDetails, wantDetails) {
		t.Errorf("details: got %s, want %s", got.Details, want.Details)
	}
}

func decodeJSON(t *testing.T, b json.RawMessage) any {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func testIDsIncrease(t *testing.T, s klaxon.Store) {
	var last int64
	for i := range 5 {
		a := newAlert(fmt.Sprintf("k%d", i))
		insert(t, s, a)
		if a.ID <= last {
			t.Fatalf("alert %d got ID %d, not above previous %d", i, a.ID, last)
		}
		last = a.ID
	}
}

func testUpdateAlert(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a := newAlert("p1")
	insert(t, s, a)
	a.State = klaxon.StateResolved
	a.ResolvedBy, a.ResolvedAt = "ops-cli", t0.Add(time.Hour)
	a.Count = 7
	a.Labels["severity"] = "warning"
	a.Level = 2
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		locked, err := tx.AlertForUpdate(ctx, a.ID)
		if err != nil {
			return err
		}
		if locked.Key != a.Key {
			return fmt.Errorf("AlertForUpdate returned key %q, want %q", locked.Key, a.Key)
		}
		return tx.UpdateAlert(ctx, a)
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	got, err := s.Alert(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertAlert(t, got, a)
}

func testUpdateUnknownAlert(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	if _, err := s.Alert(ctx, 999); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("Alert(999): got %v, want ENOTFOUND", err)
	}
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		if _, err := tx.AlertForUpdate(ctx, 999); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			return fmt.Errorf("AlertForUpdate(999): got %v, want ENOTFOUND", err)
		}
		a := newAlert("x")
		a.ID = 999
		if err := tx.UpdateAlert(ctx, a); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
			return fmt.Errorf("UpdateAlert(999): got %v, want ENOTFOUND", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testLatestAlerts(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	old := newAlert("a")
	old.State = klaxon.StateResolved
	insert(t, s, old)
	current := newAlert("a")
	current.PreviousID = old.ID
	other := newAlert("a")
	other.Integration = "other"
	b := newAlert("b")
	insert(t, s, current, other, b)
	// More keys than any one statement chunk, most of them unknown.
	keys := []string{"a", "b", "missing"}
	for i := range 150 {
		keys = append(keys, fmt.Sprintf("unknown-%d", i))
	}
	var got map[string]*klaxon.Alert
	err := s.Update(ctx, func(tx klaxon.Tx) (err error) {
		got, err = tx.LatestAlerts(ctx, "am", keys)
		return err
	})
	if err != nil {
		t.Fatalf("LatestAlerts: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("LatestAlerts returned %d alerts, want 2 (a, b)", len(got))
	}
	if got["a"].ID != current.ID {
		t.Errorf("latest a: got ID %d, want %d (the newest occurrence, not %d)", got["a"].ID, current.ID, old.ID)
	}
	if got["b"].ID != b.ID {
		t.Errorf("latest b: got ID %d, want %d", got["b"].ID, b.ID)
	}
}

func testOneOpenAlertPerKey(t *testing.T, s klaxon.Store) {
	insert(t, s, newAlert("dup"))
	err := s.Update(context.Background(), func(tx klaxon.Tx) error {
		return tx.InsertAlert(context.Background(), newAlert("dup"))
	})
	if err == nil {
		t.Fatal("a second open alert with the same integration and key was stored")
	}
	resolved := newAlert("dup")
	resolved.State = klaxon.StateResolved
	insert(t, s, resolved) // resolved occurrences may repeat
}

func testRollbackKeepsNothing(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	keep := newAlert("keep")
	insert(t, s, keep)
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.InsertAlert(ctx, newAlert("lost")); err != nil {
			return err
		}
		keep.State = klaxon.StateResolved
		if err := tx.UpdateAlert(ctx, keep); err != nil {
			return err
		}
		if err := tx.SaveHeartbeat(ctx, &klaxon.Heartbeat{Name: "hb", Timeout: time.Minute, Deadline: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the callback's error", err)
	}
	all, err := s.Alerts(ctx, klaxon.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != keep.ID || all[0].State != klaxon.StateFiring {
		t.Errorf("after rollback: got %d alerts, want only alert %d, still firing", len(all), keep.ID)
	}
	if hbs, _ := s.Heartbeats(ctx); len(hbs) != 0 {
		t.Errorf("after rollback: %d heartbeats stored, want 0", len(hbs))
	}
}

func testListFilters(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	var ids []int64
	for i := range 6 {
		a := newAlert(fmt.Sprintf("k%d", i))
		if i%2 == 1 {
			a.State = klaxon.StateResolved
		}
		insert(t, s, a)
		ids = append(ids, a.ID)
	}
	tests := []struct {
		name string
		f    klaxon.AlertFilter
		want []int64
	}{
		{"all", klaxon.AlertFilter{}, []int64{ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"firing", klaxon.AlertFilter{States: []klaxon.State{klaxon.StateFiring}}, []int64{ids[4], ids[2], ids[0]}},
		{"limit", klaxon.AlertFilter{Limit: 2}, []int64{ids[5], ids[4]}},
		{"before", klaxon.AlertFilter{Before: ids[2], Limit: 10}, []int64{ids[1], ids[0]}},
		{"resolved before", klaxon.AlertFilter{States: []klaxon.State{klaxon.StateResolved}, Before: ids[5]}, []int64{ids[3], ids[1]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Alerts(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []int64
			for _, a := range got {
				gotIDs = append(gotIDs, a.ID)
			}
			if !reflect.DeepEqual(gotIDs, tt.want) {
				t.Errorf("got IDs %v, want %v", gotIDs, tt.want)
			}
		})
	}
}

func testEvents(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a := newAlert("e")
	insert(t, s, a)
	want := []klaxon.Event{
		{AlertID: a.ID, At: t0, Kind: klaxon.EventFired, Actor: "am"},
		{AlertID: a.ID, At: t0.Add(time.Minute), Kind: klaxon.EventAcknowledged, Actor: "ops-cli", Message: "looking"},
	}
	if err := s.Update(ctx, func(tx klaxon.Tx) error { return tx.AddEvents(ctx, want...) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.AlertEvents(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID == 0 {
			t.Errorf("event %d has no ID", i)
		}
		got[i].ID = 0
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("event %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testHeartbeats(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a := newAlert("hb")
	insert(t, s, a)
	want := klaxon.Heartbeat{Name: "watchdog", Timeout: 5 * time.Minute, LastCheckIn: t0, Deadline: t0.Add(5 * time.Minute), AlertID: a.ID}
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		if hb, err := tx.Heartbeat(ctx, "watchdog"); err != nil || hb != nil {
			return fmt.Errorf("unknown heartbeat: got %v, %v; want nil, nil", hb, err)
		}
		first := want
		first.LastCheckIn, first.AlertID = time.Time{}, 0
		if err := tx.SaveHeartbeat(ctx, &first); err != nil {
			return err
		}
		return tx.SaveHeartbeat(ctx, &want) // replaces
	})
	if err != nil {
		t.Fatal(err)
	}
	var got *klaxon.Heartbeat
	if err := s.Update(ctx, func(tx klaxon.Tx) (err error) { got, err = tx.Heartbeat(ctx, "watchdog"); return err }); err != nil {
		t.Fatal(err)
	}
	if got == nil || *got != want {
		t.Errorf("Heartbeat: got %+v, want %+v", got, want)
	}
	list, err := s.Heartbeats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0] != want {
		t.Errorf("Heartbeats: got %+v, want [%+v]", list, want)
	}
}

type recordingHandler struct {
	mu   sync.Mutex
	seen []string
	done chan struct{}
}

func (h *recordingHandler) HandleJob(_ context.Context, job klaxon.Job) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, job.(klaxon.HeartbeatCheck).Name)
	select {
	case h.done <- struct{}{}:
	default:
	}
	return nil
}

func testJobsRunOnlyWhenCommitted(t *testing.T, s klaxon.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.Enqueue(ctx, klaxon.HeartbeatCheck{Name: "rolled-back"}, time.Time{}); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("Update did not return the callback's error")
	}
	if err := s.Update(ctx, func(tx klaxon.Tx) error {
		return tx.Enqueue(ctx, klaxon.HeartbeatCheck{Name: "committed"}, time.Now().Add(-time.Second))
	}); err != nil {
		t.Fatal(err)
	}
	h := &recordingHandler{done: make(chan struct{}, 1)}
	if err := s.StartJobs(ctx, h); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		t.Fatal("committed job did not run within 20s")
	}
	// Give a rolled-back job, were it stored, the same chance to run.
	time.Sleep(300 * time.Millisecond)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !reflect.DeepEqual(h.seen, []string{"committed"}) {
		t.Errorf("jobs run: got %v, want [committed]", h.seen)
	}
}
