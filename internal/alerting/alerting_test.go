package alerting_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/alerting"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
	"github.com/klaxon-oss/klaxon/internal/postgres"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 11, 21, 4, 43, 0, 0, time.UTC)

func newService(t *testing.T, opts alerting.Options) (*alerting.Service, klaxon.Store, *clock) {
	t.Helper()
	return newServiceOn(t, openSQLite(t), opts)
}

func openSQLite(t *testing.T) klaxon.Store {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func openPostgres(t *testing.T) klaxon.Store {
	store, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// backends are the stores service tests that exercise concurrency run on,
// with the writer count app uses for each.
var backends = []struct {
	name    string
	open    func(t *testing.T) klaxon.Store
	writers int
}{
	{"sqlite", openSQLite, 1},
	{"postgres", openPostgres, 4},
}

func newServiceOn(t *testing.T, store klaxon.Store, opts alerting.Options) (*alerting.Service, klaxon.Store, *clock) {
	t.Helper()
	c := &clock{t: t0}
	opts.Now = c.Now
	s := alerting.New(store, opts)
	t.Cleanup(func() {
		s.Close()
		store.Close()
	})
	return s, store, c
}

func trigger(key, pod string) klaxon.Signal {
	return klaxon.Signal{Key: key, Action: klaxon.ActionTrigger, Summary: "Pod is crash looping.", StartsAt: t0,
		Labels:      map[string]string{"alertname": "KubePodCrashLooping", "namespace": "payments", "pod": pod, "severity": "critical"},
		Annotations: map[string]string{"summary": "Pod is crash looping."}}
}

func resolve(key string) klaxon.Signal { return klaxon.Signal{Key: key, Action: klaxon.ActionResolve} }

func ingest(t *testing.T, s *alerting.Service, integration string, sigs ...klaxon.Signal) []alerting.Result {
	t.Helper()
	res, err := s.Ingest(context.Background(), integration, sigs)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return res
}

func history(t *testing.T, s *alerting.Service, id int64) (*klaxon.Alert, []klaxon.EventKind) {
	t.Helper()
	a, events, err := s.Alert(context.Background(), id)
	if err != nil {
		t.Fatalf("Alert(%d): %v", id, err)
	}
	var kinds []klaxon.EventKind
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	return a, kinds
}

func TestIngestDeduplicates(t *testing.T) {
	s, _, c := newService(t, alerting.Options{})
	first := ingest(t, s, "am", trigger("fp1", "a"), trigger("fp2", "b"))
	c.Add(time.Minute)
	again := ingest(t, s, "am", trigger("fp1", "a"), trigger("fp2", "b"))
	for i := range first {
		if first[i].Outcome != klaxon.OutcomeCreated || again[i].Outcome != klaxon.OutcomeRepeated {
			t.Errorf("signal %d: outcomes %s then %s, want created then repeated", i, first[i].Outcome, again[i].Outcome)
		}
		if first[i].AlertID != again[i].AlertID {
			t.Errorf("signal %d: re-sent alert got ID %d, want the same %d", i, again[i].AlertID, first[i].AlertID)
		}
	}
	a, kinds := history(t, s, first[0].AlertID)
	if a.Count != 2 || !a.LastSeen.Equal(t0.Add(time.Minute)) || !a.FirstSeen.Equal(t0) {
		t.Errorf("got count %d first %v last %v, want 2, %v, %v", a.Count, a.FirstSeen, a.LastSeen, t0, t0.Add(time.Minute))
	}
	if a.Level != 0 || a.Severity != "critical" {
		t.Errorf("severity: got level %d %q, want 0 critical (from the severity label)", a.Level, a.Severity)
	}
	if fmt.Sprint(kinds) != "[fired]" {
		t.Errorf("history: got %v, want [fired] (repeats are counted, not logged)", kinds)
	}
	// The same key from another integration is another alert.
	other := ingest(t, s, "other-am", trigger("fp1", "a"))
	if other[0].Outcome != klaxon.OutcomeCreated || other[0].AlertID == first[0].AlertID {
		t.Errorf("same key from another integration: got %+v, want a new alert", other[0])
	}
}

func TestRefireIsLinkedNewOccurrence(t *testing.T) {
	s, _, c := newService(t, alerting.Options{})
	first := ingest(t, s, "am", trigger("fp1", "a"))[0]
	c.Add(time.Minute)
	if r := ingest(t, s, "am", resolve("fp1"))[0]; r.Outcome != klaxon.OutcomeResolved || r.AlertID != first.AlertID {
		t.Fatalf("resolve: got %+v, want resolved %d", r, first.AlertID)
	}
	c.Add(time.Minute)
	sig := trigger("fp1", "a")
	sig.StartsAt = t0.Add(2 * time.Minute)
	second := ingest(t, s, "am", sig)[0]
	if second.Outcome != klaxon.OutcomeRefired || second.AlertID == first.AlertID {
		t.Fatalf("re-fire: got %+v, want a new refired alert", second)
	}
	a, kinds := history(t, s, second.AlertID)
	if a.PreviousID != first.AlertID {
		t.Errorf("PreviousID: got %d, want %d", a.PreviousID, first.AlertID)
	}
	if fmt.Sprint(kinds) != "[refired]" {
		t.Errorf("new occurrence history: got %v, want [refired]", kinds)
	}
	old, kinds := history(t, s, first.AlertID)
	if old.State != klaxon.StateResolved || old.ResolvedBy != "am" || fmt.Sprint(kinds) != "[fired resolved]" {
		t.Errorf("old occurrence: got %s by %q, history %v", old.State, old.ResolvedBy, kinds)
	}
}

func TestFireAndResolveInOneBatch(t *testing.T) {
	s, _, _ := newService(t, alerting.Options{})
	res := ingest(t, s, "gen", trigger("k", "a"), resolve("k"), trigger("k", "a"))
	want := []klaxon.Outcome{klaxon.OutcomeCreated, klaxon.OutcomeResolved, klaxon.OutcomeRefired}
	for i, r := range res {
		if r.Outcome != want[i] {
			t.Errorf("signal %d: got %s, want %s", i, r.Outcome, want[i])
		}
	}
	if res[0].AlertID != res[1].AlertID || res[2].AlertID == res[0].AlertID {
		t.Errorf("IDs: got %d %d %d, want the first two equal and the third new", res[0].AlertID, res[1].AlertID, res[2].AlertID)
	}
}

func TestPersonResolveOfStillFiringAlert(t *testing.T) {
	s, _, c := newService(t, alerting.Options{})
	id := ingest(t, s, "am", trigger("fp1", "a"))[0].AlertID
	if _, err := s.Resolve(context.Background(), id, "alice"); err != nil {
		t.Fatal(err)
	}
	c.Add(4 * time.Hour) // Alertmanager's repeat_interval: the same firing again
	r := ingest(t, s, "am", trigger("fp1", "a"))[0]
	if r.AlertID != id || r.Outcome != klaxon.OutcomeRepeated {
		t.Errorf("same firing after a person's resolve: got %+v, want a repeat of %d", r, id)
	}
	if a, _ := history(t, s, id); a.State != klaxon.StateResolved || a.Count != 2 {
		t.Errorf("got %s count %d, want still resolved, count 2", a.State, a.Count)
	}
}

func TestPersonActionsRecordActor(t *testing.T) {
	s, _, c := newService(t, alerting.Options{})
	ctx := context.Background()
	id := ingest(t, s, "am", trigger("fp1", "a"))[0].AlertID
	c.Add(time.Minute)
	if a, err := s.Ack(ctx, id, "alice"); err != nil || a.AckedBy != "alice" || !a.AckedAt.Equal(c.Now()) {
		t.Fatalf("Ack: got %+v, %v", a, err)
	}
	if _, err := s.Ack(ctx, id, "bob"); klaxon.ErrorCode(err) != klaxon.ECONFLICT {
		t.Errorf("second Ack: got %v, want ECONFLICT", err)
	}
	if _, err := s.Unack(ctx, id, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(ctx, id, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ack(ctx, 424242, "alice"); klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		t.Errorf("Ack of unknown alert: got %v, want ENOTFOUND", err)
	}
	_, events, _ := s.Alert(ctx, id)
	var got []string
	for _, e := range events {
		got = append(got, string(e.Kind)+"/"+e.Actor)
	}
	want := "[fired/am acknowledged/alice unacknowledged/bob resolved/carol]"
	if fmt.Sprint(got) != want {
		t.Errorf("history: got %v, want %s", got, want)
	}
}

func TestConcurrentIngestCommitsEverythingOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, store, _ := newServiceOn(t, b.open(t), alerting.Options{Writers: b.writers})
			testConcurrentIngest(t, s, store)
		})
	}
}

// testConcurrentIngest has many senders race on shared and own keys; on
// PostgreSQL several writers then race to insert the same new alert.
func testConcurrentIngest(t *testing.T, s *alerting.Service, store klaxon.Store) {
	const workers, requests, batch = 8, 25, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range requests {
				sigs := make([]klaxon.Signal, batch)
				for i := range sigs {
					// Half the keys are shared by all workers: they must dedup.
					key := fmt.Sprintf("w%d-r%d-%d", w, r, i)
					if i%2 == 0 {
						key = fmt.Sprintf("shared-r%d-%d", r, i)
					}
					sigs[i] = trigger(key, key)
				}
				if _, err := s.Ingest(context.Background(), "am", sigs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Ingest: %v", err)
	}
	all, err := store.Alerts(context.Background(), klaxon.AlertFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	wantAlerts := workers*requests*batch/2 + requests*batch/2
	if len(all) != wantAlerts {
		t.Errorf("got %d alerts, want %d", len(all), wantAlerts)
	}
	counts := 0
	for _, a := range all {
		counts += a.Count
	}
	if counts != workers*requests*batch {
		t.Errorf("sum of counts: got %d, want %d (every notification counted once)", counts, workers*requests*batch)
	}
}
