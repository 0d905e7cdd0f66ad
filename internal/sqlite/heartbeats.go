package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/klaxon-oss/klaxon"
)

func scanHeartbeat(row scanner) (*klaxon.Heartbeat, error) {
	var (
		hb              klaxon.Heartbeat
		timeoutMS, dl   int64
		lastIn, alertID sql.NullInt64
	)
	if err := row.Scan(&hb.Name, &timeoutMS, &lastIn, &dl, &alertID); err != nil {
		return nil, err
	}
	hb.Timeout = time.Duration(timeoutMS) * time.Millisecond
	hb.LastCheckIn, hb.Deadline = fromNullMicros(lastIn), fromMicros(dl)
	hb.AlertID = alertID.Int64
	return &hb, nil
}

func (t *tx) Heartbeat(ctx context.Context, name string) (*klaxon.Heartbeat, error) {
	s, err := t.stmt(ctx, `SELECT name, timeout_ms, last_check_in, deadline, alert_id FROM heartbeats WHERE name = ?`)
	if err != nil {
		return nil, fmt.Errorf("heartbeat %s: %w", name, err)
	}
	hb, err := scanHeartbeat(s.QueryRowContext(ctx, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("heartbeat %s: %w", name, err)
	}
	return hb, nil
}

func (t *tx) SaveHeartbeat(ctx context.Context, hb *klaxon.Heartbeat) error {
	_, err := t.exec(ctx, `INSERT INTO heartbeats (name, timeout_ms, last_check_in, deadline, alert_id)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET timeout_ms = excluded.timeout_ms, last_check_in = excluded.last_check_in,
			deadline = excluded.deadline, alert_id = excluded.alert_id`,
		hb.Name, hb.Timeout.Milliseconds(), nullMicros(hb.LastCheckIn), micros(hb.Deadline), nullID(hb.AlertID))
	if err != nil {
		return fmt.Errorf("save heartbeat %s: %w", hb.Name, err)
	}
	return nil
}

// Heartbeats lists stored heartbeats by name.
func (db *DB) Heartbeats(ctx context.Context) ([]klaxon.Heartbeat, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, timeout_ms, last_check_in, deadline, alert_id FROM heartbeats ORDER BY name`)
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
	return out, rows.Err()
}
