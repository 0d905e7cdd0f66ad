// Package postgres is the Store for high availability: N Klaxon replicas
// share one PostgreSQL database. Every write runs in a READ COMMITTED
// transaction that locks the rows it reads for update (SELECT ... FOR
// UPDATE), so replicas acting on the same alert take turns, and the partial
// unique index on open alerts keeps two replicas from opening the same one
// twice. Durable jobs run on River's pgx driver in the same database and are
// inserted in the same transactions.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/jobs"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the pg_advisory_xact_lock key that serialises migrations
// between replicas starting at once ("klaxon" in ASCII).
const migrationLock int64 = 0x6b6c61786f6e

// DB is a klaxon.Store on a PostgreSQL database.
type DB struct {
	pool classifiedPool
	jobs *jobs.Queue[pgx.Tx]
}

var _ klaxon.Store = (*DB)(nil)

// Options tunes the store.
type Options struct {
	Logger *slog.Logger
	// JobPollInterval bounds how late a job runs if River's LISTEN/NOTIFY
	// wake-up is missed; default 1s.
	JobPollInterval time.Duration
}

// Open connects to the database at url (a postgres:// URL or a keyword/value
// connection string, as pgx accepts), migrates it, and returns a Store.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse postgres url: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// Without connect_timeout in the URL, a connection to a host that
		// does not answer waits as long as the kernel lets it (minutes).
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := &DB{pool: classifiedPool{pool}}
	// The pool connects lazily; a wrong URL should fail here, not at the
	// first alert.
	if err := pool.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	driver := riverpgxv5.New(pool)
	if err := db.migrate(ctx, func(ctx context.Context) error { return jobs.Migrate(ctx, driver) }); err != nil {
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

// migrate applies Klaxon's pending migrations in one transaction, then runs
// River's (migrateJobs) before committing. The transaction holds an advisory
// lock throughout: River's migrator takes no lock of its own, so this is what
// makes a second replica starting at the same time wait and then find both
// schemas in place instead of racing to create the same tables.
func (db *DB) migrate(ctx context.Context, migrateJobs func(context.Context) error) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS klaxon_migrations (version integer PRIMARY KEY)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, name := range names {
		var version int
		if _, err := fmt.Sscanf(filepath.Base(name), "%d_", &version); err != nil {
			return fmt.Errorf("migrate: bad migration name %s", name)
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM klaxon_migrations WHERE version = $1)`, version).Scan(&done); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if done {
			continue
		}
		body, _ := migrations.ReadFile(name)
		// No arguments: pgx sends this over the simple protocol, which
		// allows the file's several statements in one call.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO klaxon_migrations (version) VALUES ($1)`, version); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	// River migrates on other pool connections; it touches only its own
	// tables, so it never waits on this transaction's uncommitted DDL.
	if err := migrateJobs(ctx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// Update runs fn in one READ COMMITTED transaction. The Tx's reads for
// update lock rows, which is what serialises replicas working on the same
// alert. A server that is down, restarting or out of disk makes it return
// EUNAVAILABLE.
func (db *DB) Update(ctx context.Context, fn func(klaxon.Tx) error) error {
	return unavailable(db.update(ctx, fn))
}

func (db *DB) update(ctx context.Context, fn func(klaxon.Tx) error) error {
	pgTx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// A no-op after Commit; otherwise it also covers a panic in fn. Without
	// cancel, so a cancelled ctx still rolls back instead of killing the
	// connection.
	defer pgTx.Rollback(context.WithoutCancel(ctx))
	if err := fn(&tx{tx: pgTx, jobs: db.jobs}); err != nil {
		return err
	}
	if err := pgTx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// StartJobs starts River's workers.
func (db *DB) StartJobs(ctx context.Context, h klaxon.JobHandler) error {
	return db.jobs.Start(ctx, h)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return unavailable(db.pool.Ping(ctx))
}

// Close stops the job workers and closes the pool.
func (db *DB) Close() error {
	var err error
	if db.jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = db.jobs.Stop(ctx)
		cancel()
	}
	db.pool.Close()
	return err
}

// tx is a klaxon.Tx on a pgx.Tx. pgx prepares and caches statements per
// connection by itself, so unlike the SQLite store there is no statement
// cache here.
type tx struct {
	tx   pgx.Tx
	jobs *jobs.Queue[pgx.Tx]
}

func (t *tx) Enqueue(ctx context.Context, job klaxon.Job, runAt time.Time) error {
	return t.jobs.Insert(ctx, t.tx, job, runAt)
}
