package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxon-oss/klaxon"
)

const heartbeatColumns = `name, timeout_ms, last_check_in, deadline, alert_id`

func scanHeartbeat(row pgx.Row) (*klaxon.Heartbeat, error) {
	var (
		hb        klaxon.Heartbeat
		timeoutMS int64
		lastIn    *time.Time
		deadline  time.Time
		alertID   *int64
	)
	if err := row.Scan(&hb.Name, &timeoutMS, &lastIn, &deadline, &alertID); err != nil {
		return nil, err
	}
	hb.Timeout = time.Duration(timeoutMS) * time.Millisecond
	hb.LastCheckIn, hb.Deadline = fromNullTime(lastIn), deadline.UTC()
	if alertID != nil {
		hb.AlertID = *alertID
	}
	return &hb, nil
}

func (t *tx) Heartbeat(ctx context.Context, name string) (*klaxon.Heartbeat, error) {
	// Callers read a heartbeat to write it back (check-in, deadline check);
	// locking the row makes replicas doing that take turns, as SQLite's
	// single writer does for free.
	hb, err := scanHeartbeat(t.tx.QueryRow(ctx, `SELECT `+heartbeatColumns+` FROM heartbeats WHERE name = $1 FOR UPDATE`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("heartbeat %s: %w", name, err)
	}
	return hb, nil
}

func (t *tx) SaveHeartbeat(ctx context.Context, hb *klaxon.Heartbeat) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO heartbeats (`+heartbeatColumns+`)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET timeout_ms = excluded.timeout_ms, last_check_in = excluded.last_check_in,
			deadline = excluded.deadline, alert_id = excluded.alert_id`,
		hb.Name, hb.Timeout.Milliseconds(), nullTime(hb.LastCheckIn), hb.Deadline, nullID(hb.AlertID))
	if err != nil {
		return fmt.Errorf("save heartbeat %s: %w", hb.Name, err)
	}
	return nil
}

// Heartbeats lists stored heartbeats by name.
func (db *DB) Heartbeats(ctx context.Context) ([]klaxon.Heartbeat, error) {
	// COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
	rows, err := db.pool.Query(ctx, `SELECT `+heartbeatColumns+` FROM heartbeats ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list heartbeats: %w", err)
	}
	defer rows.Close()
	var out []klaxon.Heartbeat
	for rows.Next() {
		hb, err := scanHeartbeat(rows)
		if err != nil {
			return nil, fmt.Errorf("list heartbeats: %w", err)
		}
		out = append(out, *hb)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list heartbeats: %w", err)
	}
	return out, nil
}
