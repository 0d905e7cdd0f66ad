package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
	"github.com/klaxon-oss/klaxon/internal/postgres"
	"github.com/klaxon-oss/klaxon/internal/storetest"
)

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) klaxon.Store {
		db, err := postgres.Open(context.Background(), pgtest.URL(t),
			postgres.Options{JobPollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// Replicas starting together must not race to create the schema: River's
// migrator takes no lock of its own, so Open's advisory lock has to cover it.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.URL(t)
	const replicas = 4
	errs := make(chan error, replicas)
	for range replicas {
		go func() {
			db, err := postgres.Open(context.Background(), url, postgres.Options{})
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for range replicas {
		if err := <-errs; err != nil {
			t.Errorf("open: %v", err)
		}
	}
}

// The contract cannot see row locks (SQLite has one writer anyway), but they
// are what keeps replicas from acting on the same alert at once.
func TestReadsForUpdateLock(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	a := &klaxon.Alert{Integration: "am", Key: "k", State: klaxon.StateFiring, StartsAt: time.Now()}
	g := &klaxon.Group{Route: "0", Key: "k", CreatedAt: time.Now()}
	err = db.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.InsertAlert(ctx, a); err != nil {
			return err
		}
		if err := tx.InsertGroup(ctx, g); err != nil {
			return err
		}
		return tx.SaveEscalation(ctx, &klaxon.Escalation{GroupID: g.ID, Policy: "p", Epoch: 1, StartedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string]func(context.Context, klaxon.Tx) error{
		"EscalationForUpdate": func(ctx context.Context, tx klaxon.Tx) error {
			e, err := tx.EscalationForUpdate(ctx, g.ID)
			if err == nil && e == nil {
				err = errors.New("EscalationForUpdate found no escalation")
			}
			return err
		},
		"OpenGroup": func(ctx context.Context, tx klaxon.Tx) error {
			g, err := tx.OpenGroup(ctx, "0", "k")
			if err == nil && g == nil {
				err = errors.New("OpenGroup found no group")
			}
			return err
		},
		"AlertForUpdate": func(ctx context.Context, tx klaxon.Tx) error {
			_, err := tx.AlertForUpdate(ctx, a.ID)
			return err
		},
		"LatestAlerts": func(ctx context.Context, tx klaxon.Tx) error {
			_, err := tx.LatestAlerts(ctx, "am", []string{"k"})
			return err
		},
	}
	for name, read := range reads {
		t.Run(name, func(t *testing.T) {
			locked, release := make(chan struct{}), make(chan struct{})
			holder := make(chan error, 1)
			go func() {
				holder <- db.Update(ctx, func(tx klaxon.Tx) error {
					if err := read(ctx, tx); err != nil {
						return err
					}
					close(locked)
					<-release
					return nil
				})
			}()
			<-locked
			waitCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			err := db.Update(waitCtx, func(tx klaxon.Tx) error { return read(waitCtx, tx) })
			close(release)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("second transaction: got %v, want it to wait for the lock until its deadline", err)
			}
			if err := <-holder; err != nil {
				t.Fatal(err)
			}
			if err := db.Update(ctx, func(tx klaxon.Tx) error { return read(ctx, tx) }); err != nil {
				t.Errorf("after release: %v", err)
			}
		})
	}
}

// Closing a group must not race with the changes that keep it open: replicas
// resolving a group's last two members at once must between them close it,
// and a member added while another replica resolves the last open one must
// keep it open.
func TestCloseResolvedGroupsRaces(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now().UTC().Truncate(time.Microsecond)
	newAlert := func(key string) *klaxon.Alert {
		return &klaxon.Alert{Integration: "am", Key: key, State: klaxon.StateFiring, StartsAt: now}
	}
	resolve := func(ctx context.Context, tx klaxon.Tx, a *klaxon.Alert, g *klaxon.Group) error {
		a.State, a.ResolvedBy, a.ResolvedAt = klaxon.StateResolved, "am", now
		if err := tx.UpdateAlert(ctx, a); err != nil {
			return err
		}
		return tx.CloseResolvedGroups(ctx, now, g.ID)
	}
	addMember := func(ctx context.Context, tx klaxon.Tx, _ *klaxon.Alert, g *klaxon.Group) error {
		open, err := tx.OpenGroup(ctx, g.Route, g.Key)
		if err != nil || open == nil {
			return fmt.Errorf("OpenGroup: got %v, %v; want the group", open, err)
		}
		z := newAlert(g.Key + "-new")
		if err := tx.InsertAlert(ctx, z); err != nil {
			return err
		}
		return tx.AddGroupMembers(ctx, open.ID, z.ID)
	}
	noOpenGroup := func(ctx context.Context, tx klaxon.Tx, _ *klaxon.Alert, g *klaxon.Group) error {
		if open, err := tx.OpenGroup(ctx, g.Route, g.Key); err != nil || open != nil {
			return fmt.Errorf("OpenGroup: got %v, %v; want none, the group was closed", open, err)
		}
		return nil
	}
	// first runs on x and holds its transaction open while second, on y,
	// starts.
	type step func(ctx context.Context, tx klaxon.Tx, a *klaxon.Alert, g *klaxon.Group) error
	tests := []struct {
		name          string
		xOpen, yOpen  bool
		first, second step
		wantClosed    bool
	}{
		{"last two members resolve at once", true, true, resolve, resolve, true},
		{"member added while the last open one resolves", false, true, addMember, resolve, false},
		{"group looked up while it closes", true, false, resolve, noOpenGroup, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y := newAlert(fmt.Sprintf("x%d", i)), newAlert(fmt.Sprintf("y%d", i))
			for _, a := range []*klaxon.Alert{x, y} {
				if a == x && !tt.xOpen || a == y && !tt.yOpen {
					a.State, a.ResolvedBy, a.ResolvedAt = klaxon.StateResolved, "am", now
				}
			}
			g := &klaxon.Group{Route: "0", Key: fmt.Sprint(i), CreatedAt: now}
			err := db.Update(ctx, func(tx klaxon.Tx) error {
				for _, a := range []*klaxon.Alert{x, y} {
					if err := tx.InsertAlert(ctx, a); err != nil {
						return err
					}
				}
				if err := tx.InsertGroup(ctx, g); err != nil {
					return err
				}
				return tx.AddGroupMembers(ctx, g.ID, x.ID, y.ID)
			})
			if err != nil {
				t.Fatal(err)
			}
			done, release := make(chan struct{}), make(chan struct{})
			first := make(chan error, 1)
			go func() {
				first <- db.Update(ctx, func(tx klaxon.Tx) error {
					if err := tt.first(ctx, tx, x, g); err != nil {
						return err
					}
					close(done)
					<-release
					return nil
				})
			}()
			select {
			case <-done:
			case err := <-first:
				t.Fatalf("first: %v", err)
			}
			second := make(chan error, 1)
			go func() {
				second <- db.Update(ctx, func(tx klaxon.Tx) error { return tt.second(ctx, tx, y, g) })
			}()
			// Let the second transaction reach the group's lock (or, without
			// one, judge the group from what it sees before the first commits).
			time.Sleep(200 * time.Millisecond)
			close(release)
			if err := <-first; err != nil {
				t.Fatalf("first: %v", err)
			}
			if err := <-second; err != nil {
				t.Fatalf("second: %v", err)
			}
			got, _, _, err := db.GroupView(ctx, g.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if closed := !got.ClosedAt.IsZero(); closed != tt.wantClosed {
				t.Errorf("group closed: %v, want %v", closed, tt.wantClosed)
			}
		})
	}
}

// BenchmarkAlertList measures the alert list on $KLAXON_BENCH_ALERTS
// stored alerts (default 100,000), once the table has statistics, as
// autovacuum gives a table that size in production:
//
//	KLAXON_BENCH_ALERTS=1000000 go test -run '^$' -bench AlertList -benchtime 200x ./internal/postgres
func BenchmarkAlertList(b *testing.B) {
	ctx := context.Background()
	url := pgtest.URL(b)
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	defer db.Close()
	n := storetest.BenchAlertCount(b)
	start := time.Now()
	ids := storetest.SeedAlerts(b, db, n)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE alerts`); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d alerts and analyzed them in %s", n, time.Since(start).Round(time.Second))
	storetest.BenchAlertList(b, db, ids)
}

// IDs are handed out before commit, so on PostgreSQL an event with a lower
// ID can become visible after one with a higher ID. The change mark must
// still move, or a live page would miss that change.
func TestChangeMarkSeesLateCommit(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	a := &klaxon.Alert{Integration: "am", Key: "k", State: klaxon.StateFiring, StartsAt: time.Now()}
	if err := db.Update(ctx, func(tx klaxon.Tx) error { return tx.InsertAlert(ctx, a) }); err != nil {
		t.Fatal(err)
	}
	event := func(actor string) klaxon.Event {
		return klaxon.Event{AlertID: a.ID, At: time.Now(), Kind: klaxon.EventAcknowledged, Actor: actor}
	}
	added, release := make(chan struct{}), make(chan struct{})
	slow := make(chan error, 1)
	go func() {
		slow <- db.Update(ctx, func(tx klaxon.Tx) error {
			if err := tx.AddEvents(ctx, event("slow")); err != nil {
				return err
			}
			close(added)
			<-release
			return nil
		})
	}()
	<-added
	if err := db.Update(ctx, func(tx klaxon.Tx) error { return tx.AddEvents(ctx, event("fast")) }); err != nil {
		t.Fatal(err)
	}
	before, err := db.ChangeMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	after, err := db.ChangeMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.AlertEvent != before.AlertEvent {
		t.Fatalf("the late commit has the lower ID, yet the highest ID moved: %+v → %+v", before, after)
	}
	if after == before {
		t.Errorf("ChangeMark did not move when the lower-ID event committed: %+v", after)
	}
}
