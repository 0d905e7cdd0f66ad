package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/klaxon-oss/klaxon"
)

const diagnosticsColumns = `id, alert_id, runbook, requested_by, started_at, finished_at, results`

func scanDiagnostics(row scanner) (*klaxon.Diagnostics, error) {
	var (
		d                     klaxon.Diagnostics
		startedAt, finishedAt int64
		results               string
	)
	if err := row.Scan(&d.ID, &d.AlertID, &d.Runbook, &d.RequestedBy, &startedAt, &finishedAt, &results); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(results), &d.Results); err != nil {
		return nil, fmt.Errorf("diagnostics %d results: %w", d.ID, err)
	}
	d.StartedAt, d.FinishedAt = fromMicros(startedAt), fromMicros(finishedAt)
	return &d, nil
}

// marshalResults encodes a run's results as a JSON array, [] for none.
func marshalResults(rs []klaxon.DiagnosticResult) (string, error) {
	if rs == nil {
		rs = []klaxon.DiagnosticResult{}
	}
	b, err := json.Marshal(rs)
	return string(b), err
}

func (t *tx) InsertDiagnostics(ctx context.Context, d *klaxon.Diagnostics) error {
	results, err := marshalResults(d.Results)
	if err != nil {
		return fmt.Errorf("insert diagnostics of alert %d: %w", d.AlertID, err)
	}
	res, err := t.exec(ctx, `INSERT INTO diagnostics (alert_id, runbook, requested_by, started_at, finished_at, results)
		VALUES (?, ?, ?, ?, ?, ?)`,
		d.AlertID, d.Runbook, d.RequestedBy, micros(d.StartedAt), micros(d.FinishedAt), results)
	if err != nil {
		return fmt.Errorf("insert diagnostics of alert %d: %w", d.AlertID, err)
	}
	d.ID, err = res.LastInsertId()
	return err
}

// Diagnostics lists an alert's runs from the reader pool, newest first.
func (db *DB) Diagnostics(ctx context.Context, alertID int64) ([]*klaxon.Diagnostics, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+diagnosticsColumns+` FROM diagnostics
		WHERE alert_id = ? ORDER BY id DESC`, alertID)
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

// DiagnosticsRun reads one run from the reader pool.
func (db *DB) DiagnosticsRun(ctx context.Context, id int64) (*klaxon.Diagnostics, error) {
	d, err := scanDiagnostics(db.read.QueryRowContext(ctx, `SELECT `+diagnosticsColumns+` FROM diagnostics WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "diagnostics %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("diagnostics %d: %w", id, err)
	}
	return d, nil
}
