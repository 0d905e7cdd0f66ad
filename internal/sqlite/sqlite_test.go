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
