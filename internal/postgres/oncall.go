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

const overrideColumns = `id, schedule, user_name, replaces, start_at, end_at, created_by, created_at`

func scanOverride(row pgx.Row) (*klaxon.Override, error) {
	var o klaxon.Override
	if err := row.Scan(&o.ID, &o.Schedule, &o.User, &o.Replaces, &o.Start, &o.End, &o.CreatedBy, &o.CreatedAt); err != nil {
		return nil, err
	}
	o.Start, o.End, o.CreatedAt = o.Start.UTC(), o.End.UTC(), o.CreatedAt.UTC()
	return &o, nil
}

func (t *tx) InsertOverride(ctx context.Context, o *klaxon.Override) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO overrides (schedule, user_name, replaces, start_at, end_at, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		o.Schedule, o.User, o.Replaces, o.Start, o.End, o.CreatedBy, o.CreatedAt).Scan(&o.ID)
	if err != nil {
		return fmt.Errorf("insert override of %s: %w", o.Schedule, err)
	}
	return nil
}

func (t *tx) DeleteOverride(ctx context.Context, id int64) (*klaxon.Override, error) {
	o, err := scanOverride(t.tx.QueryRow(ctx, `DELETE FROM overrides WHERE id = $1 RETURNING `+overrideColumns, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "override %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("delete override %d: %w", id, err)
	}
	return o, nil
}

// Overrides lists outside any transaction the overrides that overlap
// [from, to): an override ending at from or starting at to does not.
func (db *DB) Overrides(ctx context.Context, schedule string, from, to time.Time) ([]klaxon.Override, error) {
	query := `SELECT ` + overrideColumns + ` FROM overrides WHERE end_at > $1 AND start_at < $2`
	args := []any{from, to}
	if schedule != "" {
		query += ` AND schedule = $3`
		args = append(args, schedule)
	}
	rows, err := db.pool.Query(ctx, query+` ORDER BY start_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list overrides of %q: %w", schedule, err)
	}
	defer rows.Close()
	var out []klaxon.Override
	for rows.Next() {
		o, err := scanOverride(rows)
		if err != nil {
			return nil, fmt.Errorf("list overrides of %q: %w", schedule, err)
		}
		out = append(out, *o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list overrides of %q: %w", schedule, err)
	}
	return out, nil
}

const escalationColumns = `group_id, policy, epoch, step, due_at, started_at, stopped_at, stop_reason, mention, paged`

func scanEscalation(row pgx.Row) (*klaxon.Escalation, error) {
	var (
		e                klaxon.Escalation
		dueAt, stoppedAt *time.Time
		startedAt        time.Time
		mention, paged   []byte
	)
	err := row.Scan(&e.GroupID, &e.Policy, &e.Epoch, &e.Step, &dueAt, &startedAt, &stoppedAt, &e.StopReason, &mention, &paged)
	if err != nil {
		return nil, err
	}
	if e.Mention, err = unmarshalNames(mention); err != nil {
		return nil, fmt.Errorf("escalation of group %d mention: %w", e.GroupID, err)
	}
	if e.Paged, err = unmarshalNames(paged); err != nil {
		return nil, fmt.Errorf("escalation of group %d paged: %w", e.GroupID, err)
	}
	e.DueAt, e.StartedAt, e.StoppedAt = fromNullTime(dueAt), startedAt.UTC(), fromNullTime(stoppedAt)
	return &e, nil
}

// marshalNames encodes names as a JSON array, [] for none.
func marshalNames(names []string) ([]byte, error) {
	if names == nil {
		names = []string{}
	}
	return json.Marshal(names)
}

// unmarshalNames decodes a JSON array of names; an empty one is nil.
func unmarshalNames(b []byte) ([]string, error) {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, nil
	}
	return names, nil
}

// EscalationForUpdate locks the group's escalation row, so replicas running
// its steps (or stopping it) take turns, and the one that waited reads the
// epoch and step the other committed. With no row there is nothing to lock:
// replicas starting the same group's escalation at once both see nil, and
// their SaveEscalation upserts take turns on the primary key instead.
func (t *tx) EscalationForUpdate(ctx context.Context, groupID int64) (*klaxon.Escalation, error) {
	return oneEscalation(t.tx.QueryRow(ctx, `SELECT `+escalationColumns+` FROM escalations
		WHERE group_id = $1 FOR UPDATE`, groupID), groupID)
}

func oneEscalation(row pgx.Row, groupID int64) (*klaxon.Escalation, error) {
	e, err := scanEscalation(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("escalation of group %d: %w", groupID, err)
	}
	return e, nil
}

func (t *tx) SaveEscalation(ctx context.Context, e *klaxon.Escalation) error {
	mention, err := marshalNames(e.Mention)
	if err != nil {
		return fmt.Errorf("save escalation of group %d: %w", e.GroupID, err)
	}
	paged, err := marshalNames(e.Paged)
	if err != nil {
		return fmt.Errorf("save escalation of group %d: %w", e.GroupID, err)
	}
	_, err = t.tx.Exec(ctx, `INSERT INTO escalations (`+escalationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (group_id) DO UPDATE SET policy = excluded.policy, epoch = excluded.epoch, step = excluded.step,
			due_at = excluded.due_at, started_at = excluded.started_at, stopped_at = excluded.stopped_at,
			stop_reason = excluded.stop_reason, mention = excluded.mention, paged = excluded.paged`,
		e.GroupID, e.Policy, e.Epoch, e.Step, nullTime(e.DueAt), e.StartedAt, nullTime(e.StoppedAt),
		e.StopReason, mention, paged)
	if err != nil {
		return fmt.Errorf("save escalation of group %d: %w", e.GroupID, err)
	}
	return nil
}

// FiringMembers locks nothing; it counts the member states committed when
// it runs.
func (t *tx) FiringMembers(ctx context.Context, groupIDs ...int64) (map[int64]int, error) {
	out := make(map[int64]int)
	if len(groupIDs) == 0 {
		return out, nil
	}
	rows, err := t.tx.Query(ctx, `SELECT m.group_id, count(*) FROM group_members m JOIN alerts a ON a.id = m.alert_id
		WHERE m.group_id = ANY ($1) AND a.state = 'firing'
		GROUP BY m.group_id`, groupIDs)
	if err != nil {
		return nil, fmt.Errorf("firing members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id    int64
			count int
		)
		if err := rows.Scan(&id, &count); err != nil {
			return nil, fmt.Errorf("firing members: %w", err)
		}
		out[id] = count
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("firing members: %w", err)
	}
	return out, nil
}

// Escalation reads a group's escalation outside any transaction.
func (db *DB) Escalation(ctx context.Context, groupID int64) (*klaxon.Escalation, error) {
	return oneEscalation(db.pool.QueryRow(ctx, `SELECT `+escalationColumns+` FROM escalations WHERE group_id = $1`, groupID), groupID)
}
