package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/klaxon-oss/klaxon"
)

// unavailable marks err as klaxon.EUNAVAILABLE when it means the server
// cannot be reached or cannot write (down, restarting, out of disk): the
// request should be retried once it is back, not reported as a bug. The
// driver's error stays in the chain for errors.As and the log. Other errors
// are returned unchanged.
func unavailable(err error) error {
	var coded *klaxon.Error
	if err == nil || errors.As(err, &coded) {
		return err
	}
	cause := unavailableCause(err)
	if cause == "" {
		return err
	}
	return fmt.Errorf("%w: %w", klaxon.Errorf(klaxon.EUNAVAILABLE, "database unavailable: %s", cause), err)
}

// unavailableCause names why err means the database is unavailable, or
// returns "" when it means something else.
func unavailableCause(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if cause := serverCause(pgErr.Code); cause != "" {
			return cause
		}
	}
	var connectErr *pgconn.ConnectError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &connectErr):
		// Whatever the reason (no route, bad password, database not
		// accepting connections), no query can run until it is fixed.
		return "cannot connect"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller gave up; pgx marks these safe to retry too.
		return ""
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err) {
		return "connection lost"
	}
	return ""
}

// serverCause names the SQLSTATEs that mean the server cannot serve us now
// (https://www.postgresql.org/docs/current/errcodes-appendix.html), or
// returns "" for any other.
func serverCause(code string) string {
	switch {
	case code == "53100":
		return "disk full"
	case code == "53300":
		return "too many connections"
	case strings.HasPrefix(code, "53"):
		return "server out of resources"
	case code == "57P01", code == "57P02":
		return "server terminated the connection"
	case code == "57P03":
		return "server not accepting connections"
	case strings.HasPrefix(code, "08"):
		return "connection failure"
	}
	return ""
}

// classifiedPool is the pgx pool with the errors of Query, QueryRow and Exec
// passed through unavailable: the reads outside Update (lists, lookups, API
// tokens) are the first thing most requests do, so they must report an
// outage as one too. Begin and Ping are classified by their callers.
type classifiedPool struct{ *pgxpool.Pool }

func (p classifiedPool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := p.Pool.Query(ctx, sql, args...)
	if err != nil {
		return rows, unavailable(err)
	}
	return classifiedRows{rows}, nil
}

func (p classifiedPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return classifiedRow{p.Pool.QueryRow(ctx, sql, args...)}
}

func (p classifiedPool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := p.Pool.Exec(ctx, sql, args...)
	return tag, unavailable(err)
}

// classifiedRows reports a connection lost while reading rows as unavailable.
type classifiedRows struct{ pgx.Rows }

func (r classifiedRows) Err() error { return unavailable(r.Rows.Err()) }

// classifiedRow reports a connection lost while reading its row as
// unavailable.
type classifiedRow struct{ pgx.Row }

func (r classifiedRow) Scan(dest ...any) error { return unavailable(r.Row.Scan(dest...)) }
