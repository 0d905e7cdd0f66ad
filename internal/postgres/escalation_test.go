package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
	"github.com/klaxon-oss/klaxon/internal/postgres"
)

// Replicas running the same escalation step must take turns: the second
// waits on EscalationForUpdate until the first commits, then reads the step
// the first saved, so an escalation job delivered twice runs its step once.
func TestEscalationForUpdateWaitsForCommit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel() // before the store closes: ends transactions a failure left waiting
	url := pgtest.URL(t)
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now().UTC().Truncate(time.Microsecond)
	g := &klaxon.Group{Route: "0", Key: "k", CreatedAt: now}
	err = db.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.InsertGroup(ctx, g); err != nil {
			return err
		}
		return tx.SaveEscalation(ctx, &klaxon.Escalation{GroupID: g.ID, Policy: "p", Epoch: 1, Step: 1, DueAt: now, StartedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		seen *klaxon.Escalation // as EscalationForUpdate read it
		ran  bool
		err  error
	}
	// run is an escalation job in its own transaction: it runs step 1
	// unless the escalation is past it. Once it has run the step it closes
	// locked, if given, and keeps its transaction open until hold is
	// closed, if given.
	run := func(locked chan<- struct{}, hold <-chan struct{}) <-chan result {
		out := make(chan result, 1)
		go func() {
			var r result
			r.err = db.Update(ctx, func(tx klaxon.Tx) error {
				e, err := tx.EscalationForUpdate(ctx, g.ID)
				if err != nil || e == nil {
					return err
				}
				r.seen = new(*e)
				if e.Step != 1 {
					return nil
				}
				e.Step, e.DueAt = 2, now.Add(time.Minute)
				if err := tx.SaveEscalation(ctx, e); err != nil {
					return err
				}
				r.ran = true
				if locked != nil {
					close(locked)
				}
				if hold == nil {
					return nil
				}
				select {
				case <-hold:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			out <- r
		}()
		return out
	}

	locked, release := make(chan struct{}), make(chan struct{})
	first := run(locked, release)
	select {
	case <-locked:
	case r := <-first:
		t.Fatalf("first transaction: read %+v, %v; want it to run step 1", r.seen, r.err)
	}
	second := run(nil, nil)
	waitForLockWaiter(ctx, t, url)
	select {
	case r := <-second:
		t.Fatalf("second transaction finished while the first held the escalation: read %+v, %v", r.seen, r.err)
	default:
	}
	close(release)
	if r := <-first; r.err != nil {
		t.Fatalf("first transaction: %v", r.err)
	}
	r := <-second
	if r.err != nil {
		t.Fatalf("second transaction: %v", r.err)
	}
	if r.ran || r.seen == nil || r.seen.Step != 2 {
		t.Errorf("second transaction: read %+v and ran step 1: %v; want it to read step 2, committed by the first, and run nothing", r.seen, r.ran)
	}
}

// waitForLockWaiter polls until a session of the test's database waits
// for a lock. The database is the test's own and no job workers run, so
// that session is the test's.
func waitForLockWaiter(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		var waiting bool
		err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting)
		if err != nil {
			t.Fatalf("wait for a lock waiter: %v", err)
		}
		if waiting {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("wait for a lock waiter: %v", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
