package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// AlertFacts walks the alerts first seen in [since, until) row by row, so
// a year of history never sits in memory at once.
func (db *DB) AlertFacts(ctx context.Context, since, until time.Time, fn func(klaxon.AlertFact) error) error {
	rows, err := db.read.QueryContext(ctx, `SELECT id, integration, labels, level, first_seen,
			acked_at, acked_by, resolved_at, resolved_by, previous_id
		FROM alerts WHERE first_seen >= ? AND first_seen < ? ORDER BY id`, micros(since), micros(until))
	if err != nil {
		return fmt.Errorf("alert facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			f                               klaxon.AlertFact
			labels                          string
			firstSeen                       int64
			ackedAt, resolvedAt, previousID sql.NullInt64
		)
		err := rows.Scan(&f.ID, &f.Integration, &labels, &f.Level, &firstSeen,
			&ackedAt, &f.AckedBy, &resolvedAt, &f.ResolvedBy, &previousID)
		if err != nil {
			return fmt.Errorf("alert facts: %w", err)
		}
		if err := json.Unmarshal([]byte(labels), &f.Labels); err != nil {
			return fmt.Errorf("alert %d labels: %w", f.ID, err)
		}
		f.FirstSeen, f.AckedAt, f.ResolvedAt = fromMicros(firstSeen), fromNullMicros(ackedAt), fromNullMicros(resolvedAt)
		f.PreviousID = previousID.Int64
		if err := fn(f); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("alert facts: %w", err)
	}
	return nil
}

func (db *DB) PageRecords(ctx context.Context, since, until time.Time) ([]klaxon.PageRecord, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, at, person, group_id, level, channel
		FROM page_records WHERE at >= ? AND at < ? ORDER BY at, id`, micros(since), micros(until))
	if err != nil {
		return nil, fmt.Errorf("page records: %w", err)
	}
	defer rows.Close()
	var out []klaxon.PageRecord
	for rows.Next() {
		var (
			p  klaxon.PageRecord
			at int64
		)
		if err := rows.Scan(&p.ID, &at, &p.Person, &p.GroupID, &p.Level, &p.Channel); err != nil {
			return nil, fmt.Errorf("page records: %w", err)
		}
		p.At = fromMicros(at)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("page records: %w", err)
	}
	return out, nil
}

// RecordPages inserts many rows per statement, like AddEvents.
func (t *tx) RecordPages(ctx context.Context, pages ...klaxon.PageRecord) error {
	const chunk = 64
	for len(pages) > 0 {
		n := min(len(pages), chunk)
		part := pages[:n]
		pages = pages[n:]
		args := make([]any, 0, 5*n)
		for _, p := range part {
			args = append(args, micros(p.At), p.Person, p.GroupID, p.Level, p.Channel)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?),", n), ",")
		if _, err := t.exec(ctx, `INSERT INTO page_records (at, person, group_id, level, channel) VALUES `+values, args...); err != nil {
			return fmt.Errorf("record pages: %w", err)
		}
	}
	return nil
}

// ChangeMark reads the two highest IDs from the end of their primary keys,
// and counts the rows among the last changeWindow IDs of each, so that a
// transaction committing after one with a higher ID still moves the mark.
// It is polled every second by every live page.
func (db *DB) ChangeMark(ctx context.Context) (klaxon.ChangeMark, error) {
	var m klaxon.ChangeMark
	err := db.read.QueryRowContext(ctx, `WITH m AS (SELECT
		(SELECT coalesce(max(id), 0) FROM alert_events) AS a,
		(SELECT coalesce(max(id), 0) FROM incident_timeline) AS t)
	SELECT a, t,
		(SELECT count(*) FROM alert_events WHERE id > a - ?1) +
		(SELECT count(*) FROM incident_timeline WHERE id > t - ?1)
	FROM m`, changeWindow).Scan(&m.AlertEvent, &m.Timeline, &m.Recent)
	if err != nil {
		return klaxon.ChangeMark{}, fmt.Errorf("change mark: %w", err)
	}
	return m, nil
}

// changeWindow is how far behind the highest ID a late commit is still
// noticed: far more than the transactions in flight at once.
const changeWindow = 1000
