package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	driver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/klaxon-oss/klaxon"
)

func openTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Real driver errors: the driver's Error cannot be built by hand.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	// The reader pool is query_only: a write there fails as on a read-only file.
	_, readOnly := db.read.ExecContext(ctx, `INSERT INTO cursors (name, value) VALUES ('a', 'b')`)
	_, constraint := db.write.ExecContext(ctx, `INSERT INTO klaxon_migrations (version) VALUES (1)`)
	missing, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "no-such-dir", "klaxon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer missing.Close()
	cantOpen := missing.PingContext(ctx)
	notFound := klaxon.Errorf(klaxon.ENOTFOUND, "alert 7 not found")

	tests := []struct {
		name        string
		err         error
		wantCode    string
		wantMessage string
	}{
		{"read-only", readOnly, klaxon.EUNAVAILABLE, "database unavailable: file is read-only"},
		{"cannot open", cantOpen, klaxon.EUNAVAILABLE, "database unavailable: cannot open file"},
		{"wrapped", fmt.Errorf("insert alert: %w", readOnly), klaxon.EUNAVAILABLE, "database unavailable: file is read-only"},
		{"constraint", constraint, klaxon.EINTERNAL, "internal error"},
		{"coded", notFound, klaxon.ENOTFOUND, notFound.Message},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("the statement did not fail")
			}
			got := unavailable("/data/klaxon.db", tt.err)
			if code := klaxon.ErrorCode(got); code != tt.wantCode {
				t.Errorf("code: got %q, want %q (err: %v)", code, tt.wantCode, got)
			}
			if msg := klaxon.ErrorMessage(got); msg != tt.wantMessage {
				t.Errorf("message: got %q, want %q", msg, tt.wantMessage)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("%v does not wrap %v", got, tt.err)
			}
			if tt.wantCode == klaxon.EUNAVAILABLE && !strings.Contains(got.Error(), "/data/klaxon.db") {
				t.Errorf("error %q does not name the file", got)
			}
		})
	}
	if got := unavailable("/data/klaxon.db", nil); got != nil {
		t.Errorf("nil: got %v", got)
	}
}

// A full disk fails writes with EUNAVAILABLE, and once space is freed the
// store writes again, undamaged. max_page_count makes SQLite answer exactly
// as it does on a full disk (SQLITE_FULL).
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	if err := insertAlert(ctx, db, testAlert("before")); err != nil {
		t.Fatalf("insert before the disk fills: %v", err)
	}
	// Per connection, and the writer has exactly one.
	if _, err := db.write.ExecContext(ctx, `PRAGMA max_page_count = 1`); err != nil { // raised to the current size
		t.Fatal(err)
	}
	err := insertAlert(ctx, db, testAlert("while-full"))
	if code := klaxon.ErrorCode(err); code != klaxon.EUNAVAILABLE {
		t.Fatalf("insert on a full disk: got code %q (err %v), want %q", code, err, klaxon.EUNAVAILABLE)
	}
	if got, want := klaxon.ErrorMessage(err), "database unavailable: disk full"; got != want {
		t.Errorf("message: got %q, want %q", got, want)
	}
	var driverErr *driver.Error
	if !errors.As(err, &driverErr) || driverErr.Code()&0xff != sqlite3.SQLITE_FULL {
		t.Errorf("%v does not wrap the driver's SQLITE_FULL", err)
	}
	if !strings.Contains(err.Error(), db.path) {
		t.Errorf("error %q does not name %s", err, db.path)
	}

	if _, err := db.write.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := insertAlert(ctx, db, testAlert("after")); err != nil {
		t.Fatalf("insert after space is freed: %v", err)
	}
	alerts, err := db.Alerts(ctx, klaxon.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, a := range alerts {
		keys = append(keys, a.Key)
	}
	if got, want := strings.Join(keys, " "), "after before"; got != want {
		t.Errorf("stored alerts: got %s, want %s", got, want)
	}
	var check string
	if err := db.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: got %q, %v; want ok", check, err)
	}
}

func insertAlert(ctx context.Context, db *DB, a *klaxon.Alert) error {
	return db.Update(ctx, func(tx klaxon.Tx) error { return tx.InsertAlert(ctx, a) })
}

// testAlert is an alert large enough (64 KiB of description) to need new
// pages whatever free space the file has.
func testAlert(key string) *klaxon.Alert {
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	return &klaxon.Alert{
		Integration: "am",
		Key:         key,
		State:       klaxon.StateFiring,
		Severity:    "critical",
		Summary:     "Disk full on db-1",
		Labels:      map[string]string{"alertname": "DiskFull", "instance": key},
		Annotations: map[string]string{"description": strings.Repeat("x", 64<<10)},
		StartsAt:    t0,
		FirstSeen:   t0,
		LastSeen:    t0,
		Count:       1,
	}
}
