package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klaxon-oss/klaxon"
)

const overrideColumns = `id, schedule, user_name, replaces, start_at, end_at, created_by, created_at`

func scanOverride(row scanner) (*klaxon.Override, error) {
	var (
		o                     klaxon.Override
		start, end, createdAt int64
	)
	if err := row.Scan(&o.ID, &o.Schedule, &o.User, &o.Replaces, &start, &end, &o.CreatedBy, &createdAt); err != nil {
		return nil, err
	}
	o.Start, o.End, o.CreatedAt = fromMicros(start), fromMicros(end), fromMicros(createdAt)
	return &o, nil
}

func (t *tx) InsertOverride(ctx context.Context, o *klaxon.Override) error {
	res, err := t.exec(ctx, `INSERT INTO overrides (schedule, user_name, replaces, start_at, end_at, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		o.Schedule, o.User, o.Replaces, micros(o.Start), micros(o.End), o.CreatedBy, micros(o.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert override of %s: %w", o.Schedule, err)
	}
	o.ID, err = res.LastInsertId()
	return err
}

func (t *tx) DeleteOverride(ctx context.Context, id int64) (*klaxon.Override, error) {
	s, err := t.stmt(ctx, `DELETE FROM overrides WHERE id = ? RETURNING `+overrideColumns)
	if err != nil {
		return nil, fmt.Errorf("delete override %d: %w", id, err)
	}
	o, err := scanOverride(s.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "override %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("delete override %d: %w", id, err)
	}
	return o, nil
}

// Overrides lists from the reader pool the overrides that overlap
// [from, to): an override ending at from or starting at to does not.
func (db *DB) Overrides(ctx context.Context, schedule string, from, to time.Time) ([]klaxon.Override, error) {
	query := `SELECT ` + overrideColumns + ` FROM overrides WHERE end_at > ? AND start_at < ?`
	args := []any{micros(from), micros(to)}
	if schedule != "" {
		query += ` AND schedule = ?`
		args = append(args, schedule)
	}
	rows, err := db.read.QueryContext(ctx, query+` ORDER BY start_at, id`, args...)
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

func scanEscalation(row scanner) (*klaxon.Escalation, error) {
	var (
		e                klaxon.Escalation
		dueAt, stoppedAt sql.NullInt64
		startedAt        int64
		mention, paged   string
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
	e.DueAt, e.StartedAt, e.StoppedAt = fromNullMicros(dueAt), fromMicros(startedAt), fromNullMicros(stoppedAt)
	return &e, nil
}

// marshalNames encodes names as a JSON array, [] for none.
func marshalNames(names []string) (string, error) {
	if names == nil {
		names = []string{}
	}
	b, err := json.Marshal(names)
	return string(b), err
}

// unmarshalNames decodes a JSON array of names; an empty one is nil.
func unmarshalNames(s string) ([]string, error) {
	var names []string
	if err := json.Unmarshal([]byte(s), &names); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, nil
	}
	return names, nil
}

func (t *tx) EscalationForUpdate(ctx context.Context, groupID int64) (*klaxon.Escalation, error) {
	// The writer's lock makes this a locked read, as in AlertForUpdate.
	s, err := t.stmt(ctx, `SELECT `+escalationColumns+` FROM escalations WHERE group_id = ?`)
	if err != nil {
		return nil, fmt.Errorf("escalation of group %d: %w", groupID, err)
	}
	return oneEscalation(s.QueryRowContext(ctx, groupID), groupID)
}

func oneEscalation(row *sql.Row, groupID int64) (*klaxon.Escalation, error) {
	e, err := scanEscalation(row)
	if errors.Is(err, sql.ErrNoRows) {
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
	_, err = t.exec(ctx, `INSERT INTO escalations (`+escalationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (group_id) DO UPDATE SET policy = excluded.policy, epoch = excluded.epoch, step = excluded.step,
			due_at = excluded.due_at, started_at = excluded.started_at, stopped_at = excluded.stopped_at,
			stop_reason = excluded.stop_reason, mention = excluded.mention, paged = excluded.paged`,
		e.GroupID, e.Policy, e.Epoch, e.Step, nullMicros(e.DueAt), micros(e.StartedAt), nullMicros(e.StoppedAt),
		e.StopReason, mention, paged)
	if err != nil {
		return fmt.Errorf("save escalation of group %d: %w", e.GroupID, err)
	}
	return nil
}

func (t *tx) FiringMembers(ctx context.Context, groupIDs ...int64) (map[int64]int, error) {
	out := make(map[int64]int)
	const chunk = 64
	for len(groupIDs) > 0 {
		n := min(len(groupIDs), chunk)
		part := groupIDs[:n]
		groupIDs = groupIDs[n:]
		s, err := t.stmt(ctx, `SELECT m.group_id, count(*) FROM group_members m JOIN alerts a ON a.id = m.alert_id
			WHERE m.group_id IN (`+placeholders(n)+`) AND a.state = 'firing'
			GROUP BY m.group_id`)
		if err != nil {
			return nil, fmt.Errorf("firing members: %w", err)
		}
		args := make([]any, n)
		for i, id := range part {
			args[i] = id
		}
		rows, err := s.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("firing members: %w", err)
		}
		for rows.Next() {
			var (
				id    int64
				count int
			)
			if err := rows.Scan(&id, &count); err != nil {
				rows.Close()
				return nil, fmt.Errorf("firing members: %w", err)
			}
			out[id] = count
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("firing members: %w", err)
		}
	}
	return out, nil
}

// Escalation reads a group's escalation from the reader pool.
func (db *DB) Escalation(ctx context.Context, groupID int64) (*klaxon.Escalation, error) {
	return oneEscalation(db.read.QueryRowContext(ctx, `SELECT `+escalationColumns+` FROM escalations WHERE group_id = ?`, groupID), groupID)
}
