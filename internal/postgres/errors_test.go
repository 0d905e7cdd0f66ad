package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
)

func TestUnavailable(t *testing.T) {
	// Nothing listens on port 1: a real refused connection, no server needed.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, refused := pgconn.Connect(ctx, "postgres://klaxon@127.0.0.1:1/klaxon?sslmode=disable")
	notFound := klaxon.Errorf(klaxon.ENOTFOUND, "alert 7 not found")

	tests := []struct {
		name        string
		err         error
		wantCode    string
		wantMessage string
	}{
		{"connection refused", refused, klaxon.EUNAVAILABLE, "database unavailable: connection refused"},
		{"disk full", &pgconn.PgError{Code: "53100"}, klaxon.EUNAVAILABLE, "database unavailable: disk full"},
		{"wrapped", fmt.Errorf("insert alert: %w", &pgconn.PgError{Code: "53100"}), klaxon.EUNAVAILABLE, "database unavailable: disk full"},
		{"too many connections", &pgconn.PgError{Code: "53300"}, klaxon.EUNAVAILABLE, "database unavailable: too many connections"},
		{"out of memory", &pgconn.PgError{Code: "53200"}, klaxon.EUNAVAILABLE, "database unavailable: server out of resources"},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, klaxon.EUNAVAILABLE, "database unavailable: server terminated the connection"},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, klaxon.EUNAVAILABLE, "database unavailable: server terminated the connection"},
		{"starting up", &pgconn.PgError{Code: "57P03"}, klaxon.EUNAVAILABLE, "database unavailable: server not accepting connections"},
		{"connection failure", &pgconn.PgError{Code: "08006"}, klaxon.EUNAVAILABLE, "database unavailable: connection failure"},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, klaxon.EUNAVAILABLE, "database unavailable: connection lost"},
		{"unexpected EOF", fmt.Errorf("commit: %w", io.ErrUnexpectedEOF), klaxon.EUNAVAILABLE, "database unavailable: connection lost"},
		{"conn closed", pgconn.ErrConnClosed, klaxon.EUNAVAILABLE, "database unavailable: connection lost"},
		{"unique violation", &pgconn.PgError{Code: "23505"}, klaxon.EINTERNAL, "internal error"},
		{"caller gave up", fmt.Errorf("begin: %w", context.Canceled), klaxon.EINTERNAL, "internal error"},
		{"coded", notFound, klaxon.ENOTFOUND, notFound.Message},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error to classify")
			}
			got := unavailable(tt.err)
			if code := klaxon.ErrorCode(got); code != tt.wantCode {
				t.Errorf("code: got %q, want %q (err: %v)", code, tt.wantCode, got)
			}
			if msg := klaxon.ErrorMessage(got); msg != tt.wantMessage {
				t.Errorf("message: got %q, want %q", msg, tt.wantMessage)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("%v does not wrap %v", got, tt.err)
			}
		})
	}
	if got := unavailable(nil); got != nil {
		t.Errorf("nil: got %v", got)
	}
}

// A store whose server is gone (its connections ended, no new ones let in)
// answers EUNAVAILABLE on writes, reads and pings, and works again once the
// server is back: the pool reconnects by itself.
func TestServerGone(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	// The admin connects to the maintenance database: PostgreSQL does not
	// let a session shut its own database.
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	database := pgx.Identifier{name}.Sanitize()
	adminExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	adminExec(`ALTER DATABASE ` + database + ` ALLOW_CONNECTIONS false`)
	// Waits (up to 5s) for each backend to exit, so none still answers.
	adminExec(`SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1`, name)
	calls := []struct {
		name string
		call func() error
	}{
		{"ping", func() error { return db.Ping(ctx) }},
		{"update", func() error { return setCursor(ctx, db, "down") }},
		{"read row", func() error { _, err := db.Cursor(ctx, "test"); return err }},
		{"read rows", func() error { _, err := db.Alerts(ctx, klaxon.AlertFilter{}); return err }},
	}
	for _, c := range calls {
		err := c.call()
		if code := klaxon.ErrorCode(err); code != klaxon.EUNAVAILABLE {
			t.Errorf("%s while the server is gone: got code %q (err %v), want %q", c.name, code, err, klaxon.EUNAVAILABLE)
		}
	}

	adminExec(`ALTER DATABASE ` + database + ` ALLOW_CONNECTIONS true`)
	// Connections the pool still holds from before fail once each; a
	// sender's retry is what gets through.
	for attempt := 1; ; attempt++ {
		err := setCursor(ctx, db, "up")
		if err == nil {
			break
		}
		if code := klaxon.ErrorCode(err); code != klaxon.EUNAVAILABLE || attempt == 10 {
			t.Fatalf("update %d after the server is back: %v (code %q)", attempt, err, code)
		}
	}
	if got, err := db.Cursor(ctx, "test"); got != "up" || err != nil {
		t.Errorf("cursor after the server is back: got %q, %v; want up", got, err)
	}
}

func setCursor(ctx context.Context, db *DB, value string) error {
	return db.Update(ctx, func(tx klaxon.Tx) error { return tx.SetCursor(ctx, "test", value) })
}
