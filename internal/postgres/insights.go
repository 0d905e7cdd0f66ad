package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// AlertFacts walks the alerts first seen in [since, until) as pgx reads
// them off the wire, so a year of history never sits in memory at once.
func (db *DB) AlertFacts(ctx context.Context, since, until time.Time, fn func(klaxon.AlertFact) error) error {
	rows, err := db.pool.Query(ctx, `SELECT id, integration, labels, level, first_seen,
			acked_at, acked_by, resolved_at, resolved_by, previous_id
		FROM alerts WHERE first_seen >= $1 AND first_seen < $2 ORDER BY id`, since, until)
	if err != nil {
		return fmt.Errorf("alert facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			f                   klaxon.AlertFact
			labels              []byte
			ackedAt, resolvedAt *time.Time
			previousID          *int64
		)
		err := rows.Scan(&f.ID, &f.Integration, &labels, &f.Level, &f.FirstSeen,
			&ackedAt, &f.AckedBy, &resolvedAt, &f.ResolvedBy, &previousID)
		if err != nil {
			return fmt.Errorf("alert facts: %w", err)
		}
		if err := json.Unmarshal(labels, &f.Labels); err != nil {
			return fmt.Errorf("alert %d labels: %w", f.ID, err)
		}
		f.FirstSeen, f.AckedAt, f.ResolvedAt = f.FirstSeen.UTC(), fromNullTime(ackedAt), fromNullTime(resolvedAt)
		if previousID != nil {
			f.PreviousID = *previousID
		}
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
	rows, err := db.pool.Query(ctx, `SELECT id, at, person, group_id, level, channel
		FROM page_records WHERE at >= $1 AND at < $2 ORDER BY at, id`, since, until)
	if err != nil {
		return nil, fmt.Errorf("page records: %w", err)
	}
	defer rows.Close()
	var out []klaxon.PageRecord
	for rows.Next() {
		var p klaxon.PageRecord
		if err := rows.Scan(&p.ID, &p.At, &p.Person, &p.GroupID, &p.Level, &p.Channel); err != nil {
			return nil, fmt.Errorf("page records: %w", err)
		}
		p.At = p.At.UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("page records: %w", err)
	}
	return out, nil
}

// RecordPages inserts every record in one statement, column by column.
func (t *tx) RecordPages(ctx context.Context, pages ...klaxon.PageRecord) error {
	if len(pages) == 0 {
		return nil
	}
	var (
		at      = make([]time.Time, len(pages))
		person  = make([]string, len(pages))
		groupID = make([]int64, len(pages))
		level   = make([]int32, len(pages))
		channel = make([]string, len(pages))
	)
	for i, p := range pages {
		at[i], person[i], groupID[i], level[i], channel[i] = p.At, p.Person, p.GroupID, int32(p.Level), p.Channel
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO page_records (at, person, group_id, level, channel)
		SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::bigint[], $4::integer[], $5::text[])`,
		at, person, groupID, level, channel)
	if err != nil {
		return fmt.Errorf("record pages: %w", err)
	}
	return nil
}

// ChangeMark reads the two highest IDs from the end of their primary keys,
// and counts the rows among the last changeWindow IDs of each, so that a
// transaction committing after one with a higher ID still moves the mark.
// It is polled every second by every live page.
func (db *DB) ChangeMark(ctx context.Context) (klaxon.ChangeMark, error) {
	var m klaxon.ChangeMark
	err := db.pool.QueryRow(ctx, `WITH m AS (SELECT
		(SELECT coalesce(max(id), 0) FROM alert_events) AS a,
		(SELECT coalesce(max(id), 0) FROM incident_timeline) AS t)
	SELECT a, t,
		(SELECT count(*) FROM alert_events WHERE id > a - $1) +
		(SELECT count(*) FROM incident_timeline WHERE id > t - $1)
	FROM m`, changeWindow).Scan(&m.AlertEvent, &m.Timeline, &m.Recent)
	if err != nil {
		return klaxon.ChangeMark{}, fmt.Errorf("change mark: %w", err)
	}
	return m, nil
}

// changeWindow is how far behind the highest ID a late commit is still
// noticed: far more than the transactions in flight at once.
const changeWindow = 1000
