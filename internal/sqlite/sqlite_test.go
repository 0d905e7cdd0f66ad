package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
	"github.com/klaxon-oss/klaxon/internal/storetest"
)

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) klaxon.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"),
			sqlite.Options{JobPollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// BenchmarkAlertList measures the alert list on $KLAXON_BENCH_ALERTS
// stored alerts (default 100,000):
//
//	KLAXON_BENCH_ALERTS=1000000 go test -run '^$' -bench AlertList -benchtime 200x ./internal/sqlite
func BenchmarkAlertList(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "klaxon.db"), sqlite.Options{})
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	defer db.Close()
	n := storetest.BenchAlertCount(b)
	start := time.Now()
	ids := storetest.SeedAlerts(b, db, n)
	b.Logf("seeded %d alerts in %s", n, time.Since(start).Round(time.Second))
	storetest.BenchAlertList(b, db, ids)
}
