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

const groupColumns = `id, route, key, labels, created_at, closed_at`

// scanGroup scans groupColumns, after the columns before points to, if any.
func scanGroup(row scanner, before ...any) (*klaxon.Group, error) {
	var (
		g         klaxon.Group
		labels    string
		createdAt int64
		closedAt  sql.NullInt64
	)
	if err := row.Scan(append(before, &g.ID, &g.Route, &g.Key, &labels, &createdAt, &closedAt)...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(labels), &g.Labels); err != nil {
		return nil, fmt.Errorf("group %d labels: %w", g.ID, err)
	}
	g.CreatedAt, g.ClosedAt = fromMicros(createdAt), fromNullMicros(closedAt)
	return &g, nil
}

func (t *tx) OpenGroup(ctx context.Context, route, key string) (*klaxon.Group, error) {
	// The writer's lock makes this a locked read, as in AlertForUpdate.
	s, err := t.stmt(ctx, `SELECT `+groupColumns+` FROM alert_groups WHERE route = ? AND key = ? AND closed_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("open group %s %q: %w", route, key, err)
	}
	g, err := scanGroup(s.QueryRowContext(ctx, route, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open group %s %q: %w", route, key, err)
	}
	return g, nil
}

func (t *tx) InsertGroup(ctx context.Context, g *klaxon.Group) error {
	labels, err := json.Marshal(nonNil(g.Labels))
	if err != nil {
		return fmt.Errorf("insert group: %w", err)
	}
	res, err := t.exec(ctx, `INSERT INTO alert_groups (route, key, labels, created_at, closed_at) VALUES (?, ?, ?, ?, ?)`,
		g.Route, g.Key, string(labels), micros(g.CreatedAt), nullMicros(g.ClosedAt))
	if err != nil {
		return fmt.Errorf("insert group: %w", err)
	}
	g.ID, err = res.LastInsertId()
	return err
}

func (t *tx) AddGroupMembers(ctx context.Context, groupID int64, alertIDs ...int64) error {
	const chunk = 64
	for len(alertIDs) > 0 {
		n := min(len(alertIDs), chunk)
		part := alertIDs[:n]
		alertIDs = alertIDs[n:]
		args := make([]any, 0, 2*n)
		for _, id := range part {
			args = append(args, groupID, id)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?),", n), ",")
		if _, err := t.exec(ctx, `INSERT INTO group_members (group_id, alert_id) VALUES `+values+`
			ON CONFLICT DO NOTHING`, args...); err != nil {
			return fmt.Errorf("add members to group %d: %w", groupID, err)
		}
	}
	return nil
}

func (t *tx) AlertGroups(ctx context.Context, alertIDs ...int64) (map[int64][]*klaxon.Group, error) {
	out := make(map[int64][]*klaxon.Group)
	const chunk = 64
	for len(alertIDs) > 0 {
		n := min(len(alertIDs), chunk)
		part := alertIDs[:n]
		alertIDs = alertIDs[n:]
		s, err := t.stmt(ctx, `SELECT m.alert_id, `+groupColumns+`
			FROM group_members m JOIN alert_groups ON alert_groups.id = m.group_id
			WHERE m.alert_id IN (`+placeholders(n)+`) AND closed_at IS NULL
			ORDER BY m.alert_id, m.group_id`)
		if err != nil {
			return nil, fmt.Errorf("alert groups: %w", err)
		}
		args := make([]any, n)
		for i, id := range part {
			args[i] = id
		}
		rows, err := s.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("alert groups: %w", err)
		}
		for rows.Next() {
			var alertID int64
			g, err := scanGroup(rows, &alertID)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("alert groups: %w", err)
			}
			out[alertID] = append(out[alertID], g)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("alert groups: %w", err)
		}
	}
	return out, nil
}

func (t *tx) CloseResolvedGroups(ctx context.Context, now time.Time, groupIDs ...int64) error {
	const chunk = 64
	for len(groupIDs) > 0 {
		n := min(len(groupIDs), chunk)
		part := groupIDs[:n]
		groupIDs = groupIDs[n:]
		args := make([]any, 0, n+1)
		args = append(args, micros(now))
		for _, id := range part {
			args = append(args, id)
		}
		_, err := t.exec(ctx, `UPDATE alert_groups SET closed_at = ?
			WHERE id IN (`+placeholders(n)+`) AND closed_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM group_members m JOIN alerts a ON a.id = m.alert_id
				WHERE m.group_id = alert_groups.id AND a.state IN ('firing', 'acknowledged'))`, args...)
		if err != nil {
			return fmt.Errorf("close resolved groups: %w", err)
		}
	}
	return nil
}

const notificationColumns = `id, channel, group_id, version, remind, not_before, attempts, last_error, created_at`

func scanNotification(row scanner) (*klaxon.Notification, error) {
	var (
		n                    klaxon.Notification
		notBefore, createdAt int64
	)
	err := row.Scan(&n.ID, &n.Channel, &n.GroupID, &n.Version, &n.Remind, &notBefore, &n.Attempts, &n.LastError, &createdAt)
	if err != nil {
		return nil, err
	}
	n.NotBefore, n.CreatedAt = fromMicros(notBefore), fromMicros(createdAt)
	return &n, nil
}

func (t *tx) QueueNotification(ctx context.Context, n klaxon.Notification) error {
	_, err := t.exec(ctx, `INSERT INTO notifications (channel, group_id, version, remind, not_before, attempts, last_error, created_at)
		VALUES (?, ?, 1, ?, ?, 0, '', ?)
		ON CONFLICT (channel, group_id) DO UPDATE SET version = notifications.version + 1,
			not_before = min(notifications.not_before, excluded.not_before),
			remind = notifications.remind OR excluded.remind`,
		n.Channel, n.GroupID, n.Remind, micros(n.NotBefore), micros(n.CreatedAt))
	if err != nil {
		return fmt.Errorf("queue notification of group %d to %s: %w", n.GroupID, n.Channel, err)
	}
	return nil
}

func (t *tx) FinishNotification(ctx context.Context, id, version int64) (bool, error) {
	res, err := t.exec(ctx, `DELETE FROM notifications WHERE id = ? AND version = ?`, id, version)
	if err != nil {
		return false, fmt.Errorf("finish notification %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return true, nil
	}
	// Coalesced while it was being sent: it stays pending for the newer
	// state, which has not failed yet.
	if _, err := t.exec(ctx, `UPDATE notifications SET attempts = 0 WHERE id = ?`, id); err != nil {
		return false, fmt.Errorf("finish notification %d: %w", id, err)
	}
	return false, nil
}

// NotificationFailed is a no-op if the notification is no longer pending.
func (t *tx) NotificationFailed(ctx context.Context, id int64, errMsg string, retryAt time.Time) error {
	_, err := t.exec(ctx, `UPDATE notifications SET attempts = attempts + 1, last_error = ?, not_before = ? WHERE id = ?`,
		errMsg, micros(retryAt), id)
	if err != nil {
		return fmt.Errorf("notification %d failed: %w", id, err)
	}
	return nil
}

const messageColumns = `group_id, channel, ref, sends, sent_at, last_error, failed_at`

func scanMessage(row scanner) (*klaxon.Message, error) {
	var (
		m                klaxon.Message
		sentAt, failedAt sql.NullInt64
	)
	if err := row.Scan(&m.GroupID, &m.Channel, &m.Ref, &m.Sends, &sentAt, &m.LastError, &failedAt); err != nil {
		return nil, err
	}
	m.SentAt, m.FailedAt = fromNullMicros(sentAt), fromNullMicros(failedAt)
	return &m, nil
}

func (t *tx) SaveMessage(ctx context.Context, m *klaxon.Message) error {
	_, err := t.exec(ctx, `INSERT INTO messages (`+messageColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (group_id, channel) DO UPDATE SET ref = excluded.ref, sends = excluded.sends,
			sent_at = excluded.sent_at, last_error = excluded.last_error, failed_at = excluded.failed_at`,
		m.GroupID, m.Channel, m.Ref, m.Sends, nullMicros(m.SentAt), m.LastError, nullMicros(m.FailedAt))
	if err != nil {
		return fmt.Errorf("save message of group %d on %s: %w", m.GroupID, m.Channel, err)
	}
	return nil
}

func (t *tx) SetCursor(ctx context.Context, name, value string) error {
	_, err := t.exec(ctx, `INSERT INTO cursors (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("set cursor %s: %w", name, err)
	}
	return nil
}

// GroupView reads the group, its counts and its members in one read
// transaction, so the counts and the members shown agree.
func (db *DB) GroupView(ctx context.Context, id int64, limit int) (*klaxon.Group, klaxon.GroupCounts, []*klaxon.Alert, error) {
	var counts klaxon.GroupCounts
	rtx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, counts, nil, fmt.Errorf("group %d: %w", id, err)
	}
	defer rtx.Rollback()
	g, err := scanGroup(rtx.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM alert_groups WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, counts, nil, klaxon.Errorf(klaxon.ENOTFOUND, "group %d not found", id)
	}
	if err != nil {
		return nil, counts, nil, fmt.Errorf("group %d: %w", id, err)
	}
	err = rtx.QueryRowContext(ctx, `SELECT
			count(*) FILTER (WHERE a.state = 'firing'),
			count(*) FILTER (WHERE a.state = 'acknowledged'),
			count(*) FILTER (WHERE a.state = 'resolved')
		FROM group_members m JOIN alerts a ON a.id = m.alert_id WHERE m.group_id = ?`, id).
		Scan(&counts.Firing, &counts.Acknowledged, &counts.Resolved)
	if err != nil {
		return nil, counts, nil, fmt.Errorf("group %d counts: %w", id, err)
	}
	if limit <= 0 {
		return g, counts, nil, nil
	}
	members, err := queryAlerts(ctx, rtx, `SELECT `+alertColumns+` FROM alerts
		WHERE id IN (SELECT alert_id FROM group_members WHERE group_id = ?)
		ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END, level, id
		LIMIT ?`, id, limit)
	if err != nil {
		return nil, counts, nil, fmt.Errorf("group %d members: %w", id, err)
	}
	return g, counts, members, nil
}

// NextNotification reads from the reader pool; it claims nothing.
func (db *DB) NextNotification(ctx context.Context, channel string, now time.Time) (*klaxon.Notification, time.Time, error) {
	// The unary + keeps SQLite off the not_before index here: walking the
	// channel's IDs in order stops at the first due one, where a range on
	// not_before would sort every due row (a backlog, in a storm) each call.
	n, err := scanNotification(db.read.QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE channel = ? AND +not_before <= ? ORDER BY id LIMIT 1`, channel, micros(now)))
	if err == nil {
		return n, time.Time{}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("next notification on %s: %w", channel, err)
	}
	var next sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT min(not_before) FROM notifications WHERE channel = ?`, channel).Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("next notification on %s: %w", channel, err)
	}
	return nil, fromNullMicros(next), nil
}

// Message returns a group's message on a channel, or nil.
func (db *DB) Message(ctx context.Context, groupID int64, channel string) (*klaxon.Message, error) {
	m, err := scanMessage(db.read.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE group_id = ? AND channel = ?`, groupID, channel))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("message of group %d on %s: %w", groupID, channel, err)
	}
	return m, nil
}

// AlertMessages lists the messages of every group, open or closed, the alert
// is in.
func (db *DB) AlertMessages(ctx context.Context, alertID int64) ([]klaxon.Message, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE group_id IN (SELECT group_id FROM group_members WHERE alert_id = ?)
		ORDER BY group_id, channel`, alertID)
	if err != nil {
		return nil, fmt.Errorf("alert %d messages: %w", alertID, err)
	}
	defer rows.Close()
	var out []klaxon.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("alert %d messages: %w", alertID, err)
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// Cursor returns a stored position, or "".
func (db *DB) Cursor(ctx context.Context, name string) (string, error) {
	var value string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM cursors WHERE name = ?`, name).Scan(&value)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("cursor %s: %w", name, err)
	}
	return value, nil
}

// WatchOutbox has nothing to watch: one process writes a SQLite file, and
// its own commits wake its senders.
func (db *DB) WatchOutbox(ctx context.Context, _ func(channel string)) error {
	<-ctx.Done()
	return nil
}
