package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
)

const alertColumns = `id, integration, key, state, level, severity, summary, labels, annotations,
	details, links, source_url, starts_at, first_seen, last_seen, count,
	acked_by, acked_at, resolved_by, resolved_at, previous_id`

// defaultListLimit bounds a listing that asks for no limit.
const defaultListLimit = 100

type scanner interface{ Scan(dest ...any) error }

func scanAlert(row scanner) (*klaxon.Alert, error) {
	var (
		a                               klaxon.Alert
		labels, annotations             string
		details, links                  sql.NullString
		startsAt, firstSeen, lastSeen   int64
		ackedAt, resolvedAt, previousID sql.NullInt64
	)
	err := row.Scan(&a.ID, &a.Integration, &a.Key, &a.State, &a.Level, &a.Severity, &a.Summary,
		&labels, &annotations, &details, &links, &a.SourceURL, &startsAt, &firstSeen, &lastSeen,
		&a.Count, &a.AckedBy, &ackedAt, &a.ResolvedBy, &resolvedAt, &previousID)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
		return nil, fmt.Errorf("alert %d labels: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(annotations), &a.Annotations); err != nil {
		return nil, fmt.Errorf("alert %d annotations: %w", a.ID, err)
	}
	if details.Valid {
		a.Details = json.RawMessage(details.String)
	}
	if links.Valid {
		if err := json.Unmarshal([]byte(links.String), &a.Links); err != nil {
			return nil, fmt.Errorf("alert %d links: %w", a.ID, err)
		}
	}
	a.StartsAt, a.FirstSeen, a.LastSeen = fromMicros(startsAt), fromMicros(firstSeen), fromMicros(lastSeen)
	a.AckedAt, a.ResolvedAt = fromNullMicros(ackedAt), fromNullMicros(resolvedAt)
	a.PreviousID = previousID.Int64
	return &a, nil
}

// alertArgs returns the values of every column but id, in alertColumns order.
func alertArgs(a *klaxon.Alert) ([]any, error) {
	labels, err := json.Marshal(nonNil(a.Labels))
	if err != nil {
		return nil, err
	}
	annotations, err := json.Marshal(nonNil(a.Annotations))
	if err != nil {
		return nil, err
	}
	var details, links sql.NullString
	if len(a.Details) > 0 {
		details = sql.NullString{String: string(a.Details), Valid: true}
	}
	if len(a.Links) > 0 {
		b, err := json.Marshal(a.Links)
		if err != nil {
			return nil, err
		}
		links = sql.NullString{String: string(b), Valid: true}
	}
	return []any{a.Integration, a.Key, a.State, a.Level, a.Severity, a.Summary,
		string(labels), string(annotations), details, links, a.SourceURL,
		micros(a.StartsAt), micros(a.FirstSeen), micros(a.LastSeen), a.Count,
		a.AckedBy, nullMicros(a.AckedAt), a.ResolvedBy, nullMicros(a.ResolvedAt), nullID(a.PreviousID)}, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (t *tx) LatestAlerts(ctx context.Context, integration string, keys []string) (map[string]*klaxon.Alert, error) {
	out := make(map[string]*klaxon.Alert, len(keys))
	// Chunks keep the statement text (and so the prepared-statement cache)
	// to a few shapes.
	const chunk = 64
	for len(keys) > 0 {
		n := min(len(keys), chunk)
		part := keys[:n]
		keys = keys[n:]
		query := `SELECT ` + alertColumns + ` FROM alerts WHERE id IN (
			SELECT max(id) FROM alerts WHERE integration = ? AND key IN (` + placeholders(len(part)) + `) GROUP BY key)`
		s, err := t.stmt(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("latest alerts: %w", err)
		}
		args := make([]any, 0, len(part)+1)
		args = append(args, integration)
		for _, k := range part {
			args = append(args, k)
		}
		rows, err := s.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("latest alerts: %w", err)
		}
		for rows.Next() {
			a, err := scanAlert(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("latest alerts: %w", err)
			}
			out[a.Key] = a
		}
		// Next stops at an error too, and Close does not report it; Err does.
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("latest alerts: %w", err)
		}
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func (t *tx) AlertForUpdate(ctx context.Context, id int64) (*klaxon.Alert, error) {
	// The writer connection holds SQLite's write lock for the whole
	// transaction, so a plain read is already a locked read.
	s, err := t.stmt(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`)
	if err != nil {
		return nil, fmt.Errorf("alert %d: %w", id, err)
	}
	return oneAlert(s.QueryRowContext(ctx, id), id)
}

func oneAlert(row *sql.Row, id int64) (*klaxon.Alert, error) {
	a, err := scanAlert(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "alert %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("alert %d: %w", id, err)
	}
	return a, nil
}

func (t *tx) InsertAlert(ctx context.Context, a *klaxon.Alert) error {
	args, err := alertArgs(a)
	if err != nil {
		return fmt.Errorf("insert alert: %w", err)
	}
	res, err := t.exec(ctx, `INSERT INTO alerts (`+strings.TrimPrefix(alertColumns, "id, ")+`)
		VALUES (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return fmt.Errorf("insert alert: %w", err)
	}
	a.ID, err = res.LastInsertId()
	return err
}

func (t *tx) UpdateAlert(ctx context.Context, a *klaxon.Alert) error {
	args, err := alertArgs(a)
	if err != nil {
		return fmt.Errorf("update alert %d: %w", a.ID, err)
	}
	res, err := t.exec(ctx, `UPDATE alerts SET (`+strings.TrimPrefix(alertColumns, "id, ")+`)
		= (`+placeholders(len(args))+`) WHERE id = ?`, append(args, a.ID)...)
	if err != nil {
		return fmt.Errorf("update alert %d: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return klaxon.Errorf(klaxon.ENOTFOUND, "alert %d not found", a.ID)
	}
	return nil
}

// AddEvents inserts events many rows per statement: a 50-alert request
// records 50 "fired" events.
func (t *tx) AddEvents(ctx context.Context, events ...klaxon.Event) error {
	const chunk = 64
	for len(events) > 0 {
		n := min(len(events), chunk)
		part := events[:n]
		events = events[n:]
		args := make([]any, 0, 5*n)
		for _, e := range part {
			args = append(args, e.AlertID, micros(e.At), e.Kind, e.Actor, e.Message)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?),", n), ",")
		if _, err := t.exec(ctx, `INSERT INTO alert_events (alert_id, at, kind, actor, message) VALUES `+values, args...); err != nil {
			return fmt.Errorf("add events: %w", err)
		}
	}
	return nil
}

// Alert reads one alert from the reader pool.
func (db *DB) Alert(ctx context.Context, id int64) (*klaxon.Alert, error) {
	return oneAlert(db.read.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id), id)
}

// queryer is what queryAlerts reads through: a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryAlerts runs a query selecting alertColumns and scans every row.
func queryAlerts(ctx context.Context, q queryer, query string, args ...any) ([]*klaxon.Alert, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*klaxon.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertEvents returns an alert's history, oldest first.
func (db *DB) AlertEvents(ctx context.Context, alertID int64) ([]klaxon.Event, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, alert_id, at, kind, actor, message
		FROM alert_events WHERE alert_id = ? ORDER BY id`, alertID)
	if err != nil {
		return nil, fmt.Errorf("alert %d events: %w", alertID, err)
	}
	defer rows.Close()
	var out []klaxon.Event
	for rows.Next() {
		var (
			e  klaxon.Event
			at int64
		)
		if err := rows.Scan(&e.ID, &e.AlertID, &at, &e.Kind, &e.Actor, &e.Message); err != nil {
			return nil, fmt.Errorf("alert %d events: %w", alertID, err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMicros(n.Int64)
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }
