package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxon-oss/klaxon"
)

const alertColumns = `id, integration, key, state, level, severity, summary, labels, annotations,
	details, links, source_url, starts_at, first_seen, last_seen, count,
	acked_by, acked_at, resolved_by, resolved_at, previous_id`

// alertSetColumns is alertColumns without id, in the order alertArgs returns.
var alertSetColumns = strings.TrimPrefix(alertColumns, "id, ")

// defaultListLimit bounds a listing that asks for no limit.
const defaultListLimit = 100

func scanAlert(row pgx.Row) (*klaxon.Alert, error) {
	var (
		a                             klaxon.Alert
		labels, annotations           []byte
		details, links                []byte
		startsAt, firstSeen, lastSeen time.Time
		ackedAt, resolvedAt           *time.Time
		previousID                    *int64
	)
	err := row.Scan(&a.ID, &a.Integration, &a.Key, &a.State, &a.Level, &a.Severity, &a.Summary,
		&labels, &annotations, &details, &links, &a.SourceURL, &startsAt, &firstSeen, &lastSeen,
		&a.Count, &a.AckedBy, &ackedAt, &a.ResolvedBy, &resolvedAt, &previousID)
	if err != nil {
		return nil, err
	}
	// Decoding ourselves (rather than letting pgx scan into the map) keeps
	// the maps non-nil and Links nil when the column is NULL.
	if err := json.Unmarshal(labels, &a.Labels); err != nil {
		return nil, fmt.Errorf("alert %d labels: %w", a.ID, err)
	}
	if err := json.Unmarshal(annotations, &a.Annotations); err != nil {
		return nil, fmt.Errorf("alert %d annotations: %w", a.ID, err)
	}
	if details != nil {
		a.Details = json.RawMessage(details) // pgx hands us a copy
	}
	if links != nil {
		if err := json.Unmarshal(links, &a.Links); err != nil {
			return nil, fmt.Errorf("alert %d links: %w", a.ID, err)
		}
	}
	a.StartsAt, a.FirstSeen, a.LastSeen = startsAt.UTC(), firstSeen.UTC(), lastSeen.UTC()
	a.AckedAt, a.ResolvedAt = fromNullTime(ackedAt), fromNullTime(resolvedAt)
	if previousID != nil {
		a.PreviousID = *previousID
	}
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
	var details, links any // untyped nil is SQL NULL
	if len(a.Details) > 0 {
		details = []byte(a.Details)
	}
	if len(a.Links) > 0 {
		b, err := json.Marshal(a.Links)
		if err != nil {
			return nil, err
		}
		links = b
	}
	return []any{a.Integration, a.Key, string(a.State), int(a.Level), a.Severity, a.Summary,
		labels, annotations, details, links, a.SourceURL,
		a.StartsAt, a.FirstSeen, a.LastSeen, a.Count,
		a.AckedBy, nullTime(a.AckedAt), a.ResolvedBy, nullTime(a.ResolvedAt), nullID(a.PreviousID)}, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// placeholders returns "$from, ..., $(from+n-1)".
func placeholders(from, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(p, ", ")
}

func (t *tx) LatestAlerts(ctx context.Context, integration string, keys []string) (map[string]*klaxon.Alert, error) {
	out := make(map[string]*klaxon.Alert, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	// FOR UPDATE cannot go with GROUP BY or DISTINCT ON, so the newest ids
	// are picked in a subquery and the outer select locks those rows. Locking
	// in id order keeps two replicas with overlapping batches from
	// deadlocking. The subquery walks the (integration, key, id) index once
	// per key: a "key = ANY" filter let the planner, on a table without
	// statistics yet, scan every alert of the integration on each call.
	rows, err := t.tx.Query(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ANY (
			SELECT latest.id FROM unnest($2::text[]) AS k (key)
			CROSS JOIN LATERAL (SELECT id FROM alerts
				WHERE alerts.integration = $1 AND alerts.key = k.key ORDER BY id DESC LIMIT 1) AS latest)
		ORDER BY id FOR UPDATE`, integration, keys)
	if err != nil {
		return nil, fmt.Errorf("latest alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("latest alerts: %w", err)
		}
		out[a.Key] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("latest alerts: %w", err)
	}
	return out, nil
}

func (t *tx) AlertForUpdate(ctx context.Context, id int64) (*klaxon.Alert, error) {
	return oneAlert(t.tx.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = $1 FOR UPDATE`, id), id)
}

func oneAlert(row pgx.Row, id int64) (*klaxon.Alert, error) {
	a, err := scanAlert(row)
	if errors.Is(err, pgx.ErrNoRows) {
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
	err = t.tx.QueryRow(ctx, `INSERT INTO alerts (`+alertSetColumns+`)
		VALUES (`+placeholders(1, len(args))+`) RETURNING id`, args...).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("insert alert: %w", err)
	}
	return nil
}

func (t *tx) UpdateAlert(ctx context.Context, a *klaxon.Alert) error {
	args, err := alertArgs(a)
	if err != nil {
		return fmt.Errorf("update alert %d: %w", a.ID, err)
	}
	tag, err := t.tx.Exec(ctx, `UPDATE alerts SET (`+alertSetColumns+`)
		= (`+placeholders(1, len(args))+`) WHERE id = $`+strconv.Itoa(len(args)+1), append(args, a.ID)...)
	if err != nil {
		return fmt.Errorf("update alert %d: %w", a.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return klaxon.Errorf(klaxon.ENOTFOUND, "alert %d not found", a.ID)
	}
	return nil
}

func (t *tx) AddEvents(ctx context.Context, events ...klaxon.Event) error {
	if len(events) == 0 {
		return nil
	}
	// One round trip for the lot: a group commit adds an event per alert,
	// and the database is across a network.
	var b pgx.Batch
	for _, e := range events {
		b.Queue(`INSERT INTO alert_events (alert_id, at, kind, actor, message) VALUES ($1, $2, $3, $4, $5)`,
			e.AlertID, e.At, string(e.Kind), e.Actor, e.Message)
	}
	br := t.tx.SendBatch(ctx, &b)
	for _, e := range events {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("add %s event to alert %d: %w", e.Kind, e.AlertID, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("add events: %w", err)
	}
	return nil
}

// Alert reads one alert outside any transaction.
func (db *DB) Alert(ctx context.Context, id int64) (*klaxon.Alert, error) {
	return oneAlert(db.pool.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = $1`, id), id)
}

// queryer is what queryAlerts reads through: the pool or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryAlerts runs a query selecting alertColumns and scans every row.
func queryAlerts(ctx context.Context, q queryer, query string, args ...any) ([]*klaxon.Alert, error) {
	rows, err := q.Query(ctx, query, args...)
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
	rows, err := db.pool.Query(ctx, `SELECT id, alert_id, at, kind, actor, message
		FROM alert_events WHERE alert_id = $1 ORDER BY id`, alertID)
	if err != nil {
		return nil, fmt.Errorf("alert %d events: %w", alertID, err)
	}
	defer rows.Close()
	var out []klaxon.Event
	for rows.Next() {
		var e klaxon.Event
		if err := rows.Scan(&e.ID, &e.AlertID, &e.At, &e.Kind, &e.Actor, &e.Message); err != nil {
			return nil, fmt.Errorf("alert %d events: %w", alertID, err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert %d events: %w", alertID, err)
	}
	return out, nil
}

// nullTime maps the zero time to NULL, which reads back as the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromNullTime reads a nullable timestamptz. pgx returns times in the local
// zone; the contract wants UTC.
func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
