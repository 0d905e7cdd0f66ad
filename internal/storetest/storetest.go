// Package storetest is the contract every klaxon.Store must pass. Each
// implementation's tests call Run with a constructor for a fresh, empty store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
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
		{"AlertFilters", testAlertFilters},
		{"AlertPages", testAlertPages},
		{"Events", testEvents},
		{"Heartbeats", testHeartbeats},
		{"JobsRunOnlyWhenCommitted", testJobsRunOnlyWhenCommitted},
		{"GroupReminderJob", testGroupReminderJob},
		{"Groups", testGroups},
		{"OneOpenGroupPerKey", testOneOpenGroupPerKey},
		{"GroupMembers", testGroupMembers},
		{"AlertGroupsOnlyOpen", testAlertGroupsOnlyOpen},
		{"CloseResolvedGroups", testCloseResolvedGroups},
		{"GroupView", testGroupView},
		{"QueueNotificationCoalesces", testQueueNotificationCoalesces},
		{"NextNotification", testNextNotification},
		{"FinishNotification", testFinishNotification},
		{"NotificationFailed", testNotificationFailed},
		{"Messages", testMessages},
		{"Cursors", testCursors},
		{"NotifyRollbackKeepsNothing", testNotifyRollbackKeepsNothing},
		{"Diagnostics", testDiagnostics},
		{"DiagnosticsRollbackKeepsNothing", testDiagnosticsRollbackKeepsNothing},
		{"Overrides", testOverrides},
		{"DeleteOverride", testDeleteOverride},
		{"Escalations", testEscalations},
		{"FiringMembers", testFiringMembers},
		{"OnCallRollbackKeepsNothing", testOnCallRollbackKeepsNothing},
		{"Incidents", testIncidents},
		{"UpdateIncident", testUpdateIncident},
		{"IncidentFilters", testIncidentFilters},
		{"LinkAlert", testLinkAlert},
		{"IncidentByRoom", testIncidentByRoom},
		{"Timeline", testTimeline},
		{"Actions", testActions},
		{"ComponentStatuses", testComponentStatuses},
		{"IncidentRollbackKeepsNothing", testIncidentRollbackKeepsNothing},
		{"Accounts", testAccounts},
		{"AccountConflicts", testAccountConflicts},
		{"UpdateAccount", testUpdateAccount},
		{"APITokens", testAPITokens},
		{"Sessions", testSessions},
		{"AccountsRollbackKeepsNothing", testAccountsRollbackKeepsNothing},
		{"AlertFacts", testAlertFacts},
		{"PageRecords", testPageRecords},
		{"ChangeMark", testChangeMark},
		{"Leases", testLeases},
		{"LeaseRace", testLeaseRace},
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

type reminderHandler struct{ got chan klaxon.Job }

func (h reminderHandler) HandleJob(_ context.Context, job klaxon.Job) error {
	select {
	case h.got <- job:
	default:
	}
	return nil
}

func testGroupReminderJob(t *testing.T, s klaxon.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		return tx.Enqueue(ctx, klaxon.GroupReminder{GroupID: 42}, time.Now().Add(-time.Second))
	})
	h := reminderHandler{got: make(chan klaxon.Job, 1)}
	if err := s.StartJobs(ctx, h); err != nil {
		t.Fatal(err)
	}
	select {
	case job := <-h.got:
		if want := (klaxon.GroupReminder{GroupID: 42}); !reflect.DeepEqual(job, want) {
			t.Errorf("job: got %#v, want %#v", job, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("group reminder job did not run within 20s")
	}
}

// update runs fn in a transaction that must commit.
func update(t *testing.T, s klaxon.Store, fn func(ctx context.Context, tx klaxon.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx klaxon.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func newGroup(route, key string) *klaxon.Group {
	return &klaxon.Group{
		Route:     route,
		Key:       key,
		Labels:    map[string]string{"alertname": "KubePodCrashLooping", "namespace": key},
		CreatedAt: t0,
	}
}

// insertGroup stores g with members.
func insertGroup(t *testing.T, s klaxon.Store, g *klaxon.Group, members ...*klaxon.Alert) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		if err := tx.InsertGroup(ctx, g); err != nil {
			return err
		}
		return tx.AddGroupMembers(ctx, g.ID, alertIDs(members)...)
	})
	if g.ID == 0 {
		t.Fatal("InsertGroup did not set ID")
	}
}

func alertIDs(alerts []*klaxon.Alert) []int64 {
	ids := make([]int64, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	return ids
}

func closeGroups(t *testing.T, s klaxon.Store, now time.Time, groups ...*klaxon.Group) {
	t.Helper()
	ids := make([]int64, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.CloseResolvedGroups(ctx, now, ids...) })
}

func openGroup(t *testing.T, s klaxon.Store, route, key string) *klaxon.Group {
	t.Helper()
	var g *klaxon.Group
	update(t, s, func(ctx context.Context, tx klaxon.Tx) (err error) {
		g, err = tx.OpenGroup(ctx, route, key)
		return err
	})
	return g
}

func groupView(t *testing.T, s klaxon.Store, id int64, limit int) (*klaxon.Group, klaxon.GroupCounts, []*klaxon.Alert) {
	t.Helper()
	g, counts, members, err := s.GroupView(context.Background(), id, limit)
	if err != nil {
		t.Fatalf("GroupView(%d): %v", id, err)
	}
	return g, counts, members
}

func testGroups(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	want := newGroup("0.1", `alertname="KubePodCrashLooping",namespace="payments"`)
	want.Labels = map[string]string{"alertname": "KubePodCrashLooping", "namespace": "payments"}
	want.CreatedAt = t0.Add(123456 * time.Microsecond)
	insertGroup(t, s, want)
	other := newGroup("0.1", "other")
	insertGroup(t, s, other)
	if other.ID <= want.ID {
		t.Errorf("second group got ID %d, not above %d", other.ID, want.ID)
	}
	got := openGroup(t, s, want.Route, want.Key)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OpenGroup: got %+v, want %+v", got, want)
	}
	for _, rk := range [][2]string{{"0.2", want.Key}, {want.Route, "missing"}} {
		if g := openGroup(t, s, rk[0], rk[1]); g != nil {
			t.Errorf("OpenGroup(%q, %q): got %+v, want nil", rk[0], rk[1], g)
		}
	}
	g, counts, members := groupView(t, s, want.ID, 5)
	if !reflect.DeepEqual(g, want) {
		t.Errorf("GroupView: got %+v, want %+v", g, want)
	}
	if counts != (klaxon.GroupCounts{}) || len(members) != 0 {
		t.Errorf("GroupView of an empty group: got %+v and %d members, want none", counts, len(members))
	}
	if _, _, _, err := s.GroupView(ctx, other.ID+1000, 5); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("GroupView(unknown): got %v, want ENOTFOUND", err)
	}
}

func testOneOpenGroupPerKey(t *testing.T, s klaxon.Store) {
	first := newGroup("0", "k")
	insertGroup(t, s, first)
	err := s.Update(context.Background(), func(tx klaxon.Tx) error {
		return tx.InsertGroup(context.Background(), newGroup("0", "k"))
	})
	if err == nil {
		t.Fatal("a second open group with the same route and key was stored")
	}
	insertGroup(t, s, newGroup("1", "k")) // another route's group may share the key

	// A group with no open member closes; its key then starts a new group.
	closedAt := t0.Add(time.Hour)
	closeGroups(t, s, closedAt, first)
	if g := openGroup(t, s, "0", "k"); g != nil {
		t.Fatalf("OpenGroup after closing: got group %d, want nil", g.ID)
	}
	if g, _, _ := groupView(t, s, first.ID, 0); !g.ClosedAt.Equal(closedAt) || g.ClosedAt.Location() != time.UTC {
		t.Errorf("closed group: ClosedAt %v, want %v", g.ClosedAt, closedAt)
	}
	next := newGroup("0", "k")
	insertGroup(t, s, next)
	if next.ID == first.ID {
		t.Fatal("the new group reused the closed group's ID")
	}
	if g := openGroup(t, s, "0", "k"); g == nil || g.ID != next.ID {
		t.Errorf("OpenGroup: got %+v, want group %d", g, next.ID)
	}
}

func testGroupMembers(t *testing.T, s klaxon.Store) {
	a, b := newAlert("a"), newAlert("b")
	insert(t, s, a, b)
	g := newGroup("0", "k")
	insertGroup(t, s, g, a)
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		// a again, b twice in one call: no-ops, not errors.
		return tx.AddGroupMembers(ctx, g.ID, a.ID, b.ID, b.ID)
	})
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.AddGroupMembers(ctx, g.ID, b.ID) })
	_, counts, members := groupView(t, s, g.ID, 10)
	if counts != (klaxon.GroupCounts{Firing: 2}) {
		t.Errorf("counts: got %+v, want 2 firing", counts)
	}
	if got := alertIDs(members); !reflect.DeepEqual(got, []int64{a.ID, b.ID}) {
		t.Errorf("members: got %v, want %v", got, []int64{a.ID, b.ID})
	}
	var groups map[int64][]*klaxon.Group
	update(t, s, func(ctx context.Context, tx klaxon.Tx) (err error) {
		groups, err = tx.AlertGroups(ctx, a.ID, b.ID)
		return err
	})
	for _, x := range []*klaxon.Alert{a, b} {
		if got := groups[x.ID]; len(got) != 1 || got[0].ID != g.ID {
			t.Errorf("AlertGroups[%d]: got %v, want exactly group %d", x.ID, got, g.ID)
		}
	}
}

func testAlertGroupsOnlyOpen(t *testing.T, s klaxon.Store) {
	r := newAlert("r")
	r.State, r.ResolvedBy, r.ResolvedAt = klaxon.StateResolved, "am", t0.Add(time.Minute)
	a, lone := newAlert("a"), newAlert("lone")
	insert(t, s, r, a, lone)
	closed := newGroup("0", "closed")
	insertGroup(t, s, closed, r)
	closeGroups(t, s, t0.Add(time.Hour), closed)
	open1 := newGroup("0", "open1")
	insertGroup(t, s, open1, r, a)
	open2 := newGroup("1", "open2")
	insertGroup(t, s, open2, a)

	var got map[int64][]*klaxon.Group
	update(t, s, func(ctx context.Context, tx klaxon.Tx) (err error) {
		got, err = tx.AlertGroups(ctx, r.ID, a.ID, lone.ID, 999999)
		return err
	})
	gotIDs := make(map[int64][]int64)
	for id, groups := range got {
		for _, g := range groups {
			gotIDs[id] = append(gotIDs[id], g.ID)
		}
		slices.Sort(gotIDs[id])
	}
	want := map[int64][]int64{r.ID: {open1.ID}, a.ID: {open1.ID, open2.ID}}
	if !reflect.DeepEqual(gotIDs, want) {
		t.Errorf("AlertGroups: got %v, want %v (open groups only; alerts in none absent)", gotIDs, want)
	}
	if gs := got[r.ID]; len(gs) == 1 && !reflect.DeepEqual(gs[0], open1) {
		t.Errorf("AlertGroups group: got %+v, want %+v", gs[0], open1)
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		none, err := tx.AlertGroups(ctx)
		if err != nil || len(none) != 0 {
			return fmt.Errorf("AlertGroups(): got %v, %v; want empty", none, err)
		}
		return nil
	})
}

func testCloseResolvedGroups(t *testing.T, s klaxon.Store) {
	resolved := func(key string) *klaxon.Alert {
		a := newAlert(key)
		a.State, a.ResolvedBy, a.ResolvedAt = klaxon.StateResolved, "am", t0.Add(time.Minute)
		return a
	}
	r1, r2, r3 := resolved("r1"), resolved("r2"), resolved("r3")
	fire := newAlert("fire")
	ack := newAlert("ack")
	ack.State, ack.AckedBy, ack.AckedAt = klaxon.StateAcknowledged, "alice", t0.Add(time.Minute)
	insert(t, s, r1, r2, r3, fire, ack)

	allResolved := newGroup("0", "all-resolved")
	insertGroup(t, s, allResolved, r1, r2)
	firing := newGroup("0", "firing")
	insertGroup(t, s, firing, r1, fire)
	acked := newGroup("0", "acked")
	insertGroup(t, s, acked, r2, ack)
	notGiven := newGroup("0", "not-given")
	insertGroup(t, s, notGiven, r3)
	earlier := t0.Add(10 * time.Minute)
	alreadyClosed := newGroup("0", "already-closed")
	insertGroup(t, s, alreadyClosed, r3)
	closeGroups(t, s, earlier, alreadyClosed)

	now := t0.Add(time.Hour)
	closeGroups(t, s, now, allResolved, firing, acked, alreadyClosed)
	check := func(g *klaxon.Group, want time.Time) {
		t.Helper()
		if got, _, _ := groupView(t, s, g.ID, 0); !got.ClosedAt.Equal(want) {
			t.Errorf("group %q: ClosedAt %v, want %v", g.Key, got.ClosedAt, want)
		}
	}
	check(allResolved, now)
	check(firing, time.Time{})
	check(acked, time.Time{})
	check(notGiven, time.Time{})
	check(alreadyClosed, earlier) // not closed again

	// Once their last open member resolves, they close too.
	later := now.Add(time.Hour)
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		for _, a := range []*klaxon.Alert{fire, ack} {
			a.State, a.ResolvedBy, a.ResolvedAt = klaxon.StateResolved, "am", now
			if err := tx.UpdateAlert(ctx, a); err != nil {
				return err
			}
		}
		return tx.CloseResolvedGroups(ctx, later, firing.ID, acked.ID)
	})
	check(firing, later)
	check(acked, later)
	check(allResolved, now)
}

func testGroupView(t *testing.T, s klaxon.Store) {
	alert := func(key string, state klaxon.State, level klaxon.Level) *klaxon.Alert {
		a := newAlert(key)
		a.State, a.Level = state, level
		switch state {
		case klaxon.StateAcknowledged:
			a.AckedBy, a.AckedAt = "alice", t0.Add(time.Minute)
		case klaxon.StateResolved:
			a.ResolvedBy, a.ResolvedAt = "am", t0.Add(2*time.Minute)
		}
		return a
	}
	outsider := alert("outsider", klaxon.StateFiring, 0) // not a member, would sort first
	r0 := alert("r0", klaxon.StateResolved, 0)
	f2 := alert("f2", klaxon.StateFiring, 2)
	a0 := alert("a0", klaxon.StateAcknowledged, 0)
	f0 := alert("f0", klaxon.StateFiring, 0)
	f0.Details = json.RawMessage(`{"free_space":"1%"}`)
	f0.Links = []klaxon.Link{{Href: "https://runbooks.example/disk", Text: "runbook"}}
	a1 := alert("a1", klaxon.StateAcknowledged, 1)
	r3 := alert("r3", klaxon.StateResolved, 3)
	f0b := alert("f0b", klaxon.StateFiring, 0)
	insert(t, s, outsider, r0, f2, a0, f0, a1, r3, f0b)
	g := newGroup("0", "k")
	insertGroup(t, s, g, r0, f2, a0, f0, a1, r3, f0b)
	other := newGroup("1", "k") // sharing members does not mix the counts
	insertGroup(t, s, other, f0, outsider)

	wantOrder := []int64{f0.ID, f0b.ID, f2.ID, a0.ID, a1.ID, r0.ID, r3.ID}
	wantCounts := klaxon.GroupCounts{Firing: 3, Acknowledged: 2, Resolved: 2}
	for _, limit := range []int{100, 7, 3, 1, 0} {
		gotGroup, counts, members := groupView(t, s, g.ID, limit)
		if gotGroup.ID != g.ID {
			t.Errorf("limit %d: got group %d, want %d", limit, gotGroup.ID, g.ID)
		}
		if counts != wantCounts {
			t.Errorf("limit %d: counts %+v, want %+v (over all members)", limit, counts, wantCounts)
		}
		want := wantOrder[:min(limit, len(wantOrder))]
		if got := alertIDs(members); !slices.Equal(got, want) {
			t.Errorf("limit %d: members %v, want %v", limit, got, want)
		}
	}
	_, _, members := groupView(t, s, g.ID, 1)
	if len(members) == 1 {
		assertAlert(t, members[0], f0)
	}
	_, counts, _ := groupView(t, s, other.ID, 5)
	if counts != (klaxon.GroupCounts{Firing: 2}) {
		t.Errorf("other group: counts %+v, want 2 firing", counts)
	}
}

func queue(t *testing.T, s klaxon.Store, ns ...klaxon.Notification) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		for _, n := range ns {
			if err := tx.QueueNotification(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
}

func nextNotification(t *testing.T, s klaxon.Store, channel string, now time.Time) (*klaxon.Notification, time.Time) {
	t.Helper()
	n, at, err := s.NextNotification(context.Background(), channel, now)
	if err != nil {
		t.Fatalf("NextNotification(%s): %v", channel, err)
	}
	return n, at
}

// due returns the due notification of channel at now, which must exist.
func due(t *testing.T, s klaxon.Store, channel string, now time.Time) *klaxon.Notification {
	t.Helper()
	n, at := nextNotification(t, s, channel, now)
	if n == nil {
		t.Fatalf("NextNotification(%s, %v): none due (next at %v)", channel, now, at)
	}
	if !at.IsZero() {
		t.Errorf("NextNotification(%s) returned a notification and a time %v; want the zero time", channel, at)
	}
	return n
}

func testQueueNotificationCoalesces(t *testing.T, s klaxon.Store) {
	g, g2 := newGroup("0", "k"), newGroup("0", "k2")
	insertGroup(t, s, g)
	insertGroup(t, s, g2)
	far := t0.Add(24 * time.Hour)

	queue(t, s, klaxon.Notification{Channel: "ops", GroupID: g.ID, NotBefore: t0.Add(30 * time.Second), CreatedAt: t0})
	got := due(t, s, "ops", far)
	if got.ID == 0 {
		t.Fatal("queued notification has no ID")
	}
	want := klaxon.Notification{ID: got.ID, Channel: "ops", GroupID: g.ID, Version: 1, NotBefore: t0.Add(30 * time.Second), CreatedAt: t0}
	if *got != want {
		t.Fatalf("queued: got %+v, want %+v", *got, want)
	}

	// An earlier NotBefore and Remind win; fields other than Channel,
	// GroupID, NotBefore, Remind and CreatedAt are not read.
	queue(t, s, klaxon.Notification{ID: 9999, Channel: "ops", GroupID: g.ID, Version: 42, Remind: true,
		NotBefore: t0.Add(10 * time.Second), Attempts: 7, LastError: "ignored", CreatedAt: t0.Add(5 * time.Second)})
	want.Version, want.NotBefore, want.Remind = 2, t0.Add(10*time.Second), true
	if got := due(t, s, "ops", far); *got != want {
		t.Errorf("coalesced: got %+v, want %+v", *got, want)
	}

	// A later NotBefore and no Remind change neither.
	queue(t, s, klaxon.Notification{Channel: "ops", GroupID: g.ID, NotBefore: t0.Add(time.Minute), CreatedAt: t0.Add(20 * time.Second)})
	want.Version = 3
	if got := due(t, s, "ops", far); *got != want {
		t.Errorf("coalesced again: got %+v, want %+v", *got, want)
	}

	// Another channel of the same group is its own notification.
	queue(t, s, klaxon.Notification{Channel: "pager", GroupID: g.ID, NotBefore: t0, CreatedAt: t0})
	pager := due(t, s, "pager", far)
	if pager.ID <= want.ID || pager.Version != 1 || pager.Remind {
		t.Errorf("other channel: got %+v, want a new notification (ID above %d, version 1)", *pager, want.ID)
	}
	if got := due(t, s, "ops", far); *got != want {
		t.Errorf("ops after queueing on pager: got %+v, want %+v", *got, want)
	}

	// Changes in one transaction coalesce too.
	queue(t, s,
		klaxon.Notification{Channel: "ops", GroupID: g2.ID, NotBefore: t0.Add(time.Hour), CreatedAt: t0},
		klaxon.Notification{Channel: "ops", GroupID: g2.ID, NotBefore: t0.Add(2 * time.Hour), CreatedAt: t0})
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		// Finish ops/g so that g2's is the one due.
		if ok, err := tx.FinishNotification(ctx, want.ID, want.Version); err != nil || !ok {
			return fmt.Errorf("FinishNotification: got %v, %v; want true", ok, err)
		}
		return nil
	})
	if got := due(t, s, "ops", far); got.GroupID != g2.ID || got.Version != 2 || !got.NotBefore.Equal(t0.Add(time.Hour)) {
		t.Errorf("coalesced in one transaction: got %+v, want group %d, version 2, not before %v", *got, g2.ID, t0.Add(time.Hour))
	}
}

func testNextNotification(t *testing.T, s klaxon.Store) {
	var groups []*klaxon.Group
	for i := range 3 {
		g := newGroup("0", fmt.Sprint(i))
		insertGroup(t, s, g)
		groups = append(groups, g)
	}
	// Queued in this order, so IDs increase down the list.
	queue(t, s, klaxon.Notification{Channel: "other", GroupID: groups[0].ID, NotBefore: t0.Add(-time.Hour), CreatedAt: t0})
	queue(t, s, klaxon.Notification{Channel: "ops", GroupID: groups[0].ID, NotBefore: t0.Add(time.Minute), CreatedAt: t0})
	queue(t, s, klaxon.Notification{Channel: "ops", GroupID: groups[1].ID, NotBefore: t0, CreatedAt: t0})
	queue(t, s, klaxon.Notification{Channel: "ops", GroupID: groups[2].ID, NotBefore: t0.Add(-time.Minute), CreatedAt: t0})

	tests := []struct {
		name     string
		channel  string
		now      time.Time
		wantDue  int64 // group ID, 0 for none
		wantNext time.Time
	}{
		{"lowest due ID, not the lowest ID nor the earliest", "ops", t0, groups[1].ID, time.Time{}},
		{"only one due", "ops", t0.Add(-30 * time.Second), groups[2].ID, time.Time{}},
		{"none due", "ops", t0.Add(-2 * time.Minute), 0, t0.Add(-time.Minute)},
		{"all due", "ops", t0.Add(time.Hour), groups[0].ID, time.Time{}},
		{"other channel", "other", t0, groups[0].ID, time.Time{}},
		{"empty channel", "none", t0.Add(time.Hour), 0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, next := nextNotification(t, s, tt.channel, tt.now)
			var gotDue int64
			if n != nil {
				gotDue = n.GroupID
				if n.Channel != tt.channel {
					t.Errorf("got a notification of channel %q", n.Channel)
				}
			}
			if gotDue != tt.wantDue {
				t.Errorf("due: got group %d, want %d", gotDue, tt.wantDue)
			}
			if !next.Equal(tt.wantNext) || next.IsZero() != tt.wantNext.IsZero() {
				t.Errorf("next: got %v, want %v", next, tt.wantNext)
			}
		})
	}
}

func testFinishNotification(t *testing.T, s klaxon.Store) {
	g := newGroup("0", "k")
	insertGroup(t, s, g)
	far := t0.Add(24 * time.Hour)
	finish := func(id, version int64) bool {
		t.Helper()
		var ok bool
		update(t, s, func(ctx context.Context, tx klaxon.Tx) (err error) {
			ok, err = tx.FinishNotification(ctx, id, version)
			return err
		})
		return ok
	}
	queue(t, s, klaxon.Notification{Channel: "ops", GroupID: g.ID, NotBefore: t0, CreatedAt: t0})
	sending := due(t, s, "ops", far)
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		return tx.NotificationFailed(ctx, sending.ID, "timeout", t0)
	})
	// A change arrives while the notification is being sent.
	queue(t, s, klaxon.Notification{Channel: "ops", GroupID: g.ID, NotBefore: t0, CreatedAt: t0})
	if finish(sending.ID, sending.Version) {
		t.Fatal("FinishNotification at a stale version reported true")
	}
	got := due(t, s, "ops", far)
	want := klaxon.Notification{ID: sending.ID, Channel: "ops", GroupID: g.ID, Version: 2, NotBefore: t0, LastError: "timeout", CreatedAt: t0}
	if *got != want {
		t.Errorf("after a stale finish: got %+v, want %+v (still pending, attempts reset)", *got, want)
	}
	if !finish(got.ID, got.Version) {
		t.Fatal("FinishNotification at the current version reported false")
	}
	if n, next := nextNotification(t, s, "ops", far); n != nil || !next.IsZero() {
		t.Errorf("after finishing: got %+v, next %v; want none", n, next)
	}
	if finish(got.ID, got.Version) {
		t.Error("FinishNotification of a finished notification reported true")
	}
	// IDs are never reused: a late sender's finish cannot remove a newer one.
	queue(t, s, klaxon.Notification{Channel: "ops", GroupID: g.ID, NotBefore: t0, CreatedAt: t0})
	if n := due(t, s, "ops", far); n.ID <= got.ID || n.Version != 1 || n.Attempts != 0 || n.LastError != "" {
		t.Errorf("queued after finishing: got %+v, want a new notification with an ID above %d", *n, got.ID)
	}
}

func testNotificationFailed(t *testing.T, s klaxon.Store) {
	g := newGroup("0", "k")
	insertGroup(t, s, g)
	queue(t, s, klaxon.Notification{Channel: "ops", GroupID: g.ID, NotBefore: t0, CreatedAt: t0})
	n := due(t, s, "ops", t0)
	fail := func(msg string, retryAt time.Time) {
		t.Helper()
		update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.NotificationFailed(ctx, n.ID, msg, retryAt) })
	}
	retryAt := t0.Add(time.Minute + 500*time.Millisecond)
	fail("503 Service Unavailable", retryAt)
	if got, next := nextNotification(t, s, "ops", t0); got != nil || !next.Equal(retryAt) {
		t.Errorf("before retryAt: got %+v, next %v; want none due, next at %v", got, next, retryAt)
	}
	want := *n
	want.Attempts, want.LastError, want.NotBefore = 1, "503 Service Unavailable", retryAt
	if got := due(t, s, "ops", retryAt); *got != want {
		t.Errorf("after one failure: got %+v, want %+v", *got, want)
	}
	fail("timeout", t0.Add(5*time.Minute))
	want.Attempts, want.LastError, want.NotBefore = 2, "timeout", t0.Add(5*time.Minute)
	if got := due(t, s, "ops", t0.Add(time.Hour)); *got != want {
		t.Errorf("after two failures: got %+v, want %+v", *got, want)
	}
}

func testMessages(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a := newAlert("a")
	a.State, a.ResolvedBy, a.ResolvedAt = klaxon.StateResolved, "am", t0.Add(time.Minute)
	lone := newAlert("lone")
	insert(t, s, a, lone)
	closed := newGroup("0", "closed")
	insertGroup(t, s, closed, a)
	closeGroups(t, s, t0.Add(time.Hour), closed)
	open := newGroup("0", "open")
	insertGroup(t, s, open, a)
	unrelated := newGroup("1", "unrelated")
	insertGroup(t, s, unrelated, lone)

	save := func(ms ...klaxon.Message) {
		t.Helper()
		update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
			for i := range ms {
				if err := tx.SaveMessage(ctx, &ms[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	read := func(groupID int64, channel string) *klaxon.Message {
		t.Helper()
		m, err := s.Message(ctx, groupID, channel)
		if err != nil {
			t.Fatalf("Message(%d, %s): %v", groupID, channel, err)
		}
		return m
	}
	if m := read(open.ID, "slack"); m != nil {
		t.Errorf("Message before any: got %+v, want nil", m)
	}
	want := klaxon.Message{GroupID: open.ID, Channel: "slack", Ref: "1700000000.000100", Sends: 1, SentAt: t0.Add(123 * time.Microsecond)}
	save(want)
	if m := read(open.ID, "slack"); m == nil || *m != want {
		t.Errorf("Message: got %+v, want %+v", m, want)
	}
	// Replaced: a failure...
	want.Sends, want.SentAt, want.LastError, want.FailedAt = 2, t0.Add(time.Minute), "channel_not_found", t0.Add(2*time.Minute)
	save(want)
	if m := read(open.ID, "slack"); m == nil || *m != want {
		t.Errorf("Message after a failure: got %+v, want %+v", m, want)
	}
	// ...cleared by a success.
	want.Sends, want.SentAt, want.LastError, want.FailedAt = 3, t0.Add(3*time.Minute), "", time.Time{}
	save(want)
	if m := read(open.ID, "slack"); m == nil || *m != want {
		t.Errorf("Message after a success: got %+v, want %+v", m, want)
	}
	if m := read(open.ID, "matrix"); m != nil {
		t.Errorf("Message on another channel: got %+v, want nil", m)
	}

	others := []klaxon.Message{
		{GroupID: open.ID, Channel: "matrix", Ref: "$event"},
		{GroupID: open.ID, Channel: "Zulip", Ref: "42", Sends: 1, SentAt: t0},
		{GroupID: closed.ID, Channel: "slack", Ref: "1699999999.000001", Sends: 4, SentAt: t0},
		{GroupID: unrelated.ID, Channel: "slack", Ref: "x"},
	}
	save(others...)
	got, err := s.AlertMessages(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// By group, then channel in byte order (upper case first).
	wantAll := []klaxon.Message{others[2], others[1], others[0], want}
	if !reflect.DeepEqual(got, wantAll) {
		t.Errorf("AlertMessages:\n got %+v\nwant %+v", got, wantAll)
	}
	if got, err := s.AlertMessages(ctx, 999999); err != nil || len(got) != 0 {
		t.Errorf("AlertMessages(unknown): got %+v, %v; want none", got, err)
	}
}

func testCursors(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	cursor := func(name string) string {
		t.Helper()
		v, err := s.Cursor(ctx, name)
		if err != nil {
			t.Fatalf("Cursor(%s): %v", name, err)
		}
		return v
	}
	if v := cursor("matrix"); v != "" {
		t.Errorf("unknown cursor: got %q, want empty", v)
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		if err := tx.SetCursor(ctx, "matrix", "s72594_4483_1934"); err != nil {
			return err
		}
		return tx.SetCursor(ctx, "other", "1")
	})
	if v := cursor("matrix"); v != "s72594_4483_1934" {
		t.Errorf("cursor: got %q, want s72594_4483_1934", v)
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.SetCursor(ctx, "matrix", "s72595_4483_1934") })
	if v := cursor("matrix"); v != "s72595_4483_1934" {
		t.Errorf("replaced cursor: got %q, want s72595_4483_1934", v)
	}
	if v := cursor("other"); v != "1" {
		t.Errorf("other cursor: got %q, want 1", v)
	}
}

func testNotifyRollbackKeepsNothing(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a := newAlert("a")
	insert(t, s, a)
	g := newGroup("0", "kept")
	insertGroup(t, s, g, a)
	queue(t, s, klaxon.Notification{Channel: "ops", GroupID: g.ID, NotBefore: t0, CreatedAt: t0})
	n := due(t, s, "ops", t0)

	boom := errors.New("boom")
	var lost *klaxon.Group
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		lost = newGroup("0", "lost")
		if err := tx.InsertGroup(ctx, lost); err != nil {
			return err
		}
		if err := tx.AddGroupMembers(ctx, lost.ID, a.ID); err != nil {
			return err
		}
		if err := tx.QueueNotification(ctx, klaxon.Notification{Channel: "ops", GroupID: lost.ID, NotBefore: t0, CreatedAt: t0}); err != nil {
			return err
		}
		if err := tx.NotificationFailed(ctx, n.ID, "timeout", t0.Add(time.Hour)); err != nil {
			return err
		}
		if err := tx.QueueNotification(ctx, klaxon.Notification{Channel: "ops", GroupID: g.ID, NotBefore: t0, CreatedAt: t0}); err != nil {
			return err
		}
		if ok, err := tx.FinishNotification(ctx, n.ID, n.Version+1); err != nil || !ok {
			return fmt.Errorf("FinishNotification: got %v, %v; want true", ok, err)
		}
		a.State, a.ResolvedBy, a.ResolvedAt = klaxon.StateResolved, "am", t0.Add(time.Minute)
		if err := tx.UpdateAlert(ctx, a); err != nil {
			return err
		}
		if err := tx.CloseResolvedGroups(ctx, t0.Add(time.Minute), g.ID); err != nil {
			return err
		}
		if err := tx.SaveMessage(ctx, &klaxon.Message{GroupID: g.ID, Channel: "ops", Ref: "lost", Sends: 1, SentAt: t0}); err != nil {
			return err
		}
		if err := tx.SetCursor(ctx, "matrix", "lost"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the callback's error", err)
	}

	if got := openGroup(t, s, "0", "lost"); got != nil {
		t.Errorf("after rollback: group %d is stored", got.ID)
	}
	if got := openGroup(t, s, "0", "kept"); got == nil || got.ID != g.ID {
		t.Errorf("after rollback: OpenGroup(kept) = %+v, want group %d still open", got, g.ID)
	}
	if _, counts, _ := groupView(t, s, g.ID, 0); counts != (klaxon.GroupCounts{Firing: 1}) {
		t.Errorf("after rollback: counts %+v, want 1 firing", counts)
	}
	var groups map[int64][]*klaxon.Group
	update(t, s, func(ctx context.Context, tx klaxon.Tx) (err error) {
		groups, err = tx.AlertGroups(ctx, a.ID)
		return err
	})
	if gs := groups[a.ID]; len(gs) != 1 || gs[0].ID != g.ID {
		t.Errorf("after rollback: AlertGroups = %v, want only group %d", gs, g.ID)
	}
	if got := due(t, s, "ops", t0); *got != *n {
		t.Errorf("after rollback: notification %+v, want %+v unchanged", *got, *n)
	}
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		_, err := tx.FinishNotification(ctx, n.ID, n.Version)
		return err
	})
	if got, next := nextNotification(t, s, "ops", t0.Add(24*time.Hour)); got != nil || !next.IsZero() {
		t.Errorf("after rollback: a second notification is pending: %+v, next %v", got, next)
	}
	if m, err := s.Message(ctx, g.ID, "ops"); err != nil || m != nil {
		t.Errorf("after rollback: Message = %+v, %v; want nil", m, err)
	}
	if v, err := s.Cursor(ctx, "matrix"); err != nil || v != "" {
		t.Errorf("after rollback: Cursor = %q, %v; want empty", v, err)
	}
}

// newDiagnostics returns a run for alertID with one result of each status.
func newDiagnostics(alertID int64, requestedBy string, started time.Time) *klaxon.Diagnostics {
	return &klaxon.Diagnostics{
		AlertID:     alertID,
		Runbook:     "kube-pod-crash-looping",
		RequestedBy: requestedBy,
		StartedAt:   started,
		FinishedAt:  started.Add(2*time.Second + 345678*time.Microsecond),
		Results: []klaxon.DiagnosticResult{
			{
				Command:  "kubectl -n payments get pod api-7d9 -o wide",
				Status:   klaxon.DiagnosticOK,
				Output:   "NAME      READY   STATUS             RESTARTS\napi-7d9   0/1     CrashLoopBackOff   12 (3m ago)\n",
				Duration: 412345678 * time.Nanosecond,
			},
			{
				Command:   "kubectl -n payments logs api-7d9 --tail=50",
				Status:    klaxon.DiagnosticFailed,
				ExitCode:  1,
				Output:    "panic: connexion refusée « db » — 数据库 ✗ 🔥\r\n\tat main.go:42\n\n",
				Truncated: true,
				Duration:  time.Second + 1,
			},
			{
				Command:  "kubectl -n payments describe pod api-7d9",
				Status:   klaxon.DiagnosticTimeout,
				ExitCode: -1,
				Reason:   "killed after 10s",
				Output:   "Name: api-7d9\n",
				Duration: 10 * time.Second,
			},
			{Command: "rm -rf /var/lib/postgres", Status: klaxon.DiagnosticRefused, Reason: `"rm" is not on the allowlist`},
			{Command: "pgcli -h db", Status: klaxon.DiagnosticError, Reason: `exec: "pgcli": executable file not found in $PATH`},
		},
	}
}

func testDiagnostics(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a, b, quiet := newAlert("a"), newAlert("b"), newAlert("quiet")
	insert(t, s, a, b, quiet)
	first := newDiagnostics(a.ID, "", t0.Add(123456*time.Microsecond).In(cest))
	other := newDiagnostics(b.ID, "", t0)
	second := newDiagnostics(a.ID, "@alice:example.org", t0.Add(time.Hour))
	second.Results = second.Results[:1]
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error {
		for _, d := range []*klaxon.Diagnostics{first, other} {
			if err := tx.InsertDiagnostics(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.InsertDiagnostics(ctx, second) })
	if first.ID == 0 || other.ID <= first.ID || second.ID <= other.ID {
		t.Fatalf("InsertDiagnostics set IDs %d, %d, %d; want them set and increasing", first.ID, other.ID, second.ID)
	}
	first.StartedAt, first.FinishedAt = first.StartedAt.UTC(), first.FinishedAt.UTC()

	got, err := s.Diagnostics(ctx, a.ID)
	if err != nil {
		t.Fatalf("Diagnostics(%d): %v", a.ID, err)
	}
	if want := []*klaxon.Diagnostics{second, first}; !reflect.DeepEqual(got, want) {
		t.Errorf("Diagnostics(%d), newest first:\n got %s\nwant %s", a.ID, dump(got), dump(want))
	}
	for _, want := range []*klaxon.Diagnostics{first, other, second} {
		got, err := s.DiagnosticsRun(ctx, want.ID)
		if err != nil {
			t.Errorf("DiagnosticsRun(%d): %v", want.ID, err)
		} else if !reflect.DeepEqual(got, want) {
			t.Errorf("DiagnosticsRun(%d):\n got %s\nwant %s", want.ID, dump(got), dump(want))
		}
	}
	if _, err := s.DiagnosticsRun(ctx, 999999); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("DiagnosticsRun(999999): got %v, want ENOTFOUND", err)
	}
	for _, id := range []int64{quiet.ID, 999999} {
		if got, err := s.Diagnostics(ctx, id); err != nil || len(got) != 0 {
			t.Errorf("Diagnostics(%d) of an alert without runs: got %s, %v; want none", id, dump(got), err)
		}
	}
}

// dump shows values behind pointers, for failure messages.
func dump(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

func testDiagnosticsRollbackKeepsNothing(t *testing.T, s klaxon.Store) {
	ctx := context.Background()
	a := newAlert("a")
	insert(t, s, a)
	kept := newDiagnostics(a.ID, "", t0)
	update(t, s, func(ctx context.Context, tx klaxon.Tx) error { return tx.InsertDiagnostics(ctx, kept) })

	boom := errors.New("boom")
	lost := newDiagnostics(a.ID, "@alice:example.org", t0.Add(time.Minute))
	err := s.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.InsertDiagnostics(ctx, lost); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the callback's error", err)
	}
	if lost.ID == 0 {
		t.Fatal("InsertDiagnostics did not set ID")
	}
	if got, err := s.DiagnosticsRun(ctx, lost.ID); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("after rollback: DiagnosticsRun(%d) = %s, %v; want ENOTFOUND", lost.ID, dump(got), err)
	}
	got, err := s.Diagnostics(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != kept.ID {
		t.Errorf("after rollback: Diagnostics(%d) = %s, want only run %d", a.ID, dump(got), kept.ID)
	}
}
