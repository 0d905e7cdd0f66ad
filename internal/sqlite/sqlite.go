// Package sqlite is the embedded Store: one SQLite file in WAL mode, with one
// writer connection (SQLite allows one writer at a time; queuing in Go is
// cheaper than SQLITE_BUSY retries) and a pool of readers that never block it.
// Durable jobs run on River's SQLite driver in the same file.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/jobs"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a klaxon.Store on one SQLite file.
type DB struct {
	path  string
	write *sql.DB // exactly one connection: every write and River's own work
	read  *sql.DB // WAL readers for listings and lookups outside Update
	jobs  *jobs.Queue[*sql.Tx]
}

var _ klaxon.Store = (*DB)(nil)

// Options tunes the store.
type Options struct {
	Logger          *slog.Logger
	JobPollInterval time.Duration // 0: River's default (1s)
}

// Open opens (creating if needed) the database at path, migrates it, and
// returns a Store. The file's directory is created with mode 0700.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	// synchronous(FULL): a commit is on disk before we answer 2xx; group
	// commit in the caller amortises the fsync over many alerts.
	pragmas := []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"}
	write, err := sql.Open("sqlite", dsn(path, pragmas, "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", dsn(path, append(pragmas, "query_only(1)")))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	db := &DB{path: path, write: write, read: read}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	driver := riversqlite.New(write)
	if err := jobs.Migrate(ctx, driver); err != nil {
		db.Close()
		return nil, err
	}
	db.jobs, err = jobs.New(driver, jobs.Options{Logger: opts.Logger, PollInterval: opts.JobPollInterval})
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func dsn(path string, pragmas []string, extra ...string) string {
	q := make([]string, 0, len(pragmas)+len(extra))
	for _, p := range pragmas {
		q = append(q, "_pragma="+url.QueryEscape(p))
	}
	q = append(q, extra...)
	return "file:" + path + "?" + strings.Join(q, "&")
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS klaxon_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		var version int
		if _, err := fmt.Sscanf(filepath.Base(name), "%d_", &version); err != nil {
			return fmt.Errorf("migrate: bad migration name %s", name)
		}
		body, _ := migrations.ReadFile(name)
		err := db.Update(ctx, func(t klaxon.Tx) error {
			tx := t.(*tx).tx
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM klaxon_migrations WHERE version = ?`, version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO klaxon_migrations (version) VALUES (?)`, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// Update runs fn in one IMMEDIATE transaction on the writer connection. A
// disk that is full, read-only or failing makes it return EUNAVAILABLE.
func (db *DB) Update(ctx context.Context, fn func(klaxon.Tx) error) error {
	return unavailable(db.path, db.update(ctx, fn))
}

func (db *DB) update(ctx context.Context, fn func(klaxon.Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &tx{tx: sqlTx, jobs: db.jobs}
	defer t.closeStmts()
	// Deferred, so a panic in fn cannot leave the only writer connection
	// inside an open transaction. A no-op after Commit.
	defer sqlTx.Rollback()
	if err := fn(t); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// StartJobs starts River's workers.
func (db *DB) StartJobs(ctx context.Context, h klaxon.JobHandler) error {
	return db.jobs.Start(ctx, h)
}

// Ping checks that both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return unavailable(db.path, err)
	}
	return unavailable(db.path, db.write.PingContext(ctx))
}

// Close stops the job workers and closes the database.
func (db *DB) Close() error {
	var errs []error
	if db.jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, db.jobs.Stop(ctx))
		cancel()
	}
	errs = append(errs, db.read.Close(), db.write.Close())
	return errors.Join(errs...)
}

// tx is a klaxon.Tx on a *sql.Tx. Statements are prepared once per
// transaction: a group commit runs the same few statements many times.
type tx struct {
	tx    *sql.Tx
	jobs  *jobs.Queue[*sql.Tx]
	stmts map[string]*sql.Stmt
}

func (t *tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := t.stmts[query]; ok {
		return s, nil
	}
	s, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = make(map[string]*sql.Stmt)
	}
	t.stmts[query] = s
	return s, nil
}

func (t *tx) closeStmts() {
	for _, s := range t.stmts {
		s.Close()
	}
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (t *tx) Enqueue(ctx context.Context, job klaxon.Job, runAt time.Time) error {
	return t.jobs.Insert(ctx, t.tx, job, runAt)
}
