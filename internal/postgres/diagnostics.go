package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxon-oss/klaxon"
)

const diagnosticsColumns = `id, alert_id, runbook, requested_by, started_at, finished_at, results`

func scanDiagnostics(row pgx.Row) (*klaxon.Diagnostics, error) {
	var (
		d                     klaxon.Diagnostics
		startedAt, finishedAt time.Time
		results               []byte
	)
	if err := row.Scan(&d.ID, &d.AlertID, &d.Runbook, &d.RequestedBy, &startedAt, &finishedAt, &results); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(results, &d.Results); err != nil {
		return nil, fmt.Errorf("diagnostics %d results: %w", d.ID, err)
	}
	d.StartedAt, d.FinishedAt = startedAt.UTC(), finishedAt.UTC()
	return &d, nil
}

// marshalResults encodes a run's results as a JSON array, [] for none.
func marshalResults(rs []klaxon.DiagnosticResult) ([]byte, error) {
	if rs == nil {
		rs = []klaxon.DiagnosticResult{}
	}
	return json.Marshal(rs)
}

func (t *tx) InsertDiagnostics(ctx context.Context, d *klaxon.Diagnostics) error {
	results, err := marshalResults(d.Results)
	if err != nil {
		return fmt.Errorf("insert diagnostics of alert %d: %w", d.AlertID, err)
	}
	err = t.tx.QueryRow(ctx, `INSERT INTO diagnostics (alert_id, runbook, requested_by, started_at, finished_at, results)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		d.AlertID, d.Runbook, d.RequestedBy, d.StartedAt, d.FinishedAt, results).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("insert diagnostics of alert %d: %w", d.AlertID, err)
	}
	return nil
}

// Diagnostics lists an alert's runs outside any transaction, newest first.
func (db *DB) Diagnostics(ctx context.Context, alertID int64) ([]*klaxon.Diagnostics, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+diagnosticsColumns+` FROM diagnostics
		WHERE alert_id = $1 ORDER BY id DESC`, alertID)
	if err != nil {
		return nil, fmt.Errorf("alert %d diagnostics: %w", alertID, err)
	}
	defer rows.Close()
	out := []*klaxon.Diagnostics{}
	for rows.Next() {
		d, err := scanDiagnostics(rows)
		if err != nil {
			return nil, fmt.Errorf("alert %d diagnostics: %w", alertID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert %d diagnostics: %w", alertID, err)
	}
	return out, nil
}

// DiagnosticsRun reads one run outside any transaction.
func (db *DB) DiagnosticsRun(ctx context.Context, id int64) (*klaxon.Diagnostics, error) {
	d, err := scanDiagnostics(db.pool.QueryRow(ctx, `SELECT `+diagnosticsColumns+` FROM diagnostics WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "diagnostics %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("diagnostics %d: %w", id, err)
	}
	return d, nil
}
