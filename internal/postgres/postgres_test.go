package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
	if err := db.Update(ctx, func(tx klaxon.Tx) error { return tx.InsertAlert(ctx, a) }); err != nil {
		t.Fatal(err)
	}
	reads := map[string]func(context.Context, klaxon.Tx) error{
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
