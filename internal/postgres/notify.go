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

const groupColumns = `id, route, key, labels, created_at, closed_at`

// scanGroup scans groupColumns, after the columns before points to, if any.
func scanGroup(row pgx.Row, before ...any) (*klaxon.Group, error) {
	var (
		g         klaxon.Group
		labels    []byte
		createdAt time.Time
		closedAt  *time.Time
	)
	if err := row.Scan(append(before, &g.ID, &g.Route, &g.Key, &labels, &createdAt, &closedAt)...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(labels, &g.Labels); err != nil {
		return nil, fmt.Errorf("group %d labels: %w", g.ID, err)
	}
	g.CreatedAt, g.ClosedAt = createdAt.UTC(), fromNullTime(closedAt)
	return &g, nil
}

func (t *tx) OpenGroup(ctx context.Context, route, key string) (*klaxon.Group, error) {
	// Locked, so a replica adding members here and one closing the group
	// (CloseResolvedGroups) take turns: a new member cannot land in a group
	// closed under it. After waiting for a replica that closed the group, the
	// row no longer matches and the caller starts a new one. (The members'
	// foreign key share-locks the group too, but that does not wait for a
	// close in progress.)
	g, err := scanGroup(t.tx.QueryRow(ctx, `SELECT `+groupColumns+` FROM alert_groups
		WHERE route = $1 AND key = $2 AND closed_at IS NULL FOR UPDATE`, route, key))
	if errors.Is(err, pgx.ErrNoRows) {
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
	err = t.tx.QueryRow(ctx, `INSERT INTO alert_groups (route, key, labels, created_at, closed_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		g.Route, g.Key, labels, g.CreatedAt, nullTime(g.ClosedAt)).Scan(&g.ID)
	if err != nil {
		return fmt.Errorf("insert group: %w", err)
	}
	return nil
}

func (t *tx) AddGroupMembers(ctx context.Context, groupID int64, alertIDs ...int64) error {
	if len(alertIDs) == 0 {
		return nil
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO group_members (group_id, alert_id)
		SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`, groupID, alertIDs)
	if err != nil {
		return fmt.Errorf("add members to group %d: %w", groupID, err)
	}
	return nil
}

// AlertGroups locks nothing: changing a member's state needs no lock on its
// groups, and closing one takes its own (CloseResolvedGroups).
func (t *tx) AlertGroups(ctx context.Context, alertIDs ...int64) (map[int64][]*klaxon.Group, error) {
	out := make(map[int64][]*klaxon.Group)
	if len(alertIDs) == 0 {
		return out, nil
	}
	rows, err := t.tx.Query(ctx, `SELECT m.alert_id, `+groupColumns+`
		FROM group_members m JOIN alert_groups ON alert_groups.id = m.group_id
		WHERE m.alert_id = ANY ($1) AND closed_at IS NULL
		ORDER BY m.alert_id, m.group_id`, alertIDs)
	if err != nil {
		return nil, fmt.Errorf("alert groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var alertID int64
		g, err := scanGroup(rows, &alertID)
		if err != nil {
			return nil, fmt.Errorf("alert groups: %w", err)
		}
		out[alertID] = append(out[alertID], g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert groups: %w", err)
	}
	return out, nil
}

func (t *tx) CloseResolvedGroups(ctx context.Context, now time.Time, groupIDs ...int64) error {
	if len(groupIDs) == 0 {
		return nil
	}
	// Lock first, in ID order, then look at the members in a second
	// statement: under READ COMMITTED that statement sees everything
	// committed by the replicas it waited for. Looking in the same statement
	// would judge with the snapshot from before the wait, so two replicas
	// resolving a group's last two members at once could each see the
	// other's still open and neither close it, or one could close a group
	// another just added a firing member to (OpenGroup holds the same lock).
	rows, err := t.tx.Query(ctx, `SELECT id FROM alert_groups WHERE id = ANY ($1) AND closed_at IS NULL
		ORDER BY id FOR UPDATE`, groupIDs)
	if err != nil {
		return fmt.Errorf("close resolved groups: %w", err)
	}
	locked, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("close resolved groups: %w", err)
	}
	if len(locked) == 0 {
		return nil
	}
	_, err = t.tx.Exec(ctx, `UPDATE alert_groups SET closed_at = $2
		WHERE id = ANY ($1) AND closed_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM group_members m JOIN alerts a ON a.id = m.alert_id
			WHERE m.group_id = alert_groups.id AND a.state IN ('firing', 'acknowledged'))`, locked, now)
	if err != nil {
		return fmt.Errorf("close resolved groups: %w", err)
	}
	return nil
}

const notificationColumns = `id, channel, group_id, version, remind, not_before, attempts, last_error, created_at`

func scanNotification(row pgx.Row) (*klaxon.Notification, error) {
	var n klaxon.Notification
	err := row.Scan(&n.ID, &n.Channel, &n.GroupID, &n.Version, &n.Remind, &n.NotBefore, &n.Attempts, &n.LastError, &n.CreatedAt)
	if err != nil {
		return nil, err
	}
	n.NotBefore, n.CreatedAt = n.NotBefore.UTC(), n.CreatedAt.UTC()
	return &n, nil
}

// QueueNotification is one upsert: replicas queueing for the same channel
// and group at once take turns on the row's lock and each bump the version.
func (t *tx) QueueNotification(ctx context.Context, n klaxon.Notification) error {
	// The NOTIFY is delivered at commit (once per channel name however
	// many groups the transaction queued), to the leader's WatchOutbox.
	_, err := t.tx.Exec(ctx, `WITH queued AS (
		INSERT INTO notifications (channel, group_id, version, remind, not_before, attempts, last_error, created_at)
		VALUES ($1, $2, 1, $3, $4, 0, '', $5)
		ON CONFLICT (channel, group_id) DO UPDATE SET version = notifications.version + 1,
			not_before = least(notifications.not_before, excluded.not_before),
			remind = notifications.remind OR excluded.remind
		RETURNING channel)
		SELECT pg_notify('`+outboxTopic+`', channel) FROM queued`,
		n.Channel, n.GroupID, n.Remind, n.NotBefore, n.CreatedAt)
	if err != nil {
		return fmt.Errorf("queue notification of group %d to %s: %w", n.GroupID, n.Channel, err)
	}
	return nil
}

func (t *tx) FinishNotification(ctx context.Context, id, version int64) (bool, error) {
	// A concurrent QueueNotification holds the row until it commits; the
	// DELETE then rechecks the version it committed.
	tag, err := t.tx.Exec(ctx, `DELETE FROM notifications WHERE id = $1 AND version = $2`, id, version)
	if err != nil {
		return false, fmt.Errorf("finish notification %d: %w", id, err)
	}
	if tag.RowsAffected() > 0 {
		return true, nil
	}
	// Coalesced while it was being sent: it stays pending for the newer
	// state, which has not failed yet.
	if _, err := t.tx.Exec(ctx, `UPDATE notifications SET attempts = 0 WHERE id = $1`, id); err != nil {
		return false, fmt.Errorf("finish notification %d: %w", id, err)
	}
	return false, nil
}

// NotificationFailed is a no-op if the notification is no longer pending.
func (t *tx) NotificationFailed(ctx context.Context, id int64, errMsg string, retryAt time.Time) error {
	_, err := t.tx.Exec(ctx, `UPDATE notifications SET attempts = attempts + 1, last_error = $2, not_before = $3 WHERE id = $1`,
		id, errMsg, retryAt)
	if err != nil {
		return fmt.Errorf("notification %d failed: %w", id, err)
	}
	return nil
}

const messageColumns = `group_id, channel, ref, sends, sent_at, last_error, failed_at`

func scanMessage(row pgx.Row) (*klaxon.Message, error) {
	var (
		m                klaxon.Message
		sentAt, failedAt *time.Time
	)
	if err := row.Scan(&m.GroupID, &m.Channel, &m.Ref, &m.Sends, &sentAt, &m.LastError, &failedAt); err != nil {
		return nil, err
	}
	m.SentAt, m.FailedAt = fromNullTime(sentAt), fromNullTime(failedAt)
	return &m, nil
}

func (t *tx) SaveMessage(ctx context.Context, m *klaxon.Message) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO messages (`+messageColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (group_id, channel) DO UPDATE SET ref = excluded.ref, sends = excluded.sends,
			sent_at = excluded.sent_at, last_error = excluded.last_error, failed_at = excluded.failed_at`,
		m.GroupID, m.Channel, m.Ref, m.Sends, nullTime(m.SentAt), m.LastError, nullTime(m.FailedAt))
	if err != nil {
		return fmt.Errorf("save message of group %d on %s: %w", m.GroupID, m.Channel, err)
	}
	return nil
}

func (t *tx) SetCursor(ctx context.Context, name, value string) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO cursors (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("set cursor %s: %w", name, err)
	}
	return nil
}

// GroupView reads in one REPEATABLE READ transaction, so the counts and the
// members shown come from the same snapshot.
func (db *DB) GroupView(ctx context.Context, id int64, limit int) (*klaxon.Group, klaxon.GroupCounts, []*klaxon.Alert, error) {
	var counts klaxon.GroupCounts
	rtx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, counts, nil, fmt.Errorf("group %d: %w", id, err)
	}
	defer rtx.Rollback(context.WithoutCancel(ctx))
	g, err := scanGroup(rtx.QueryRow(ctx, `SELECT c.firing, c.acknowledged, c.resolved, `+groupColumns+`
		FROM alert_groups g CROSS JOIN LATERAL (SELECT
				count(*) FILTER (WHERE a.state = 'firing') AS firing,
				count(*) FILTER (WHERE a.state = 'acknowledged') AS acknowledged,
				count(*) FILTER (WHERE a.state = 'resolved') AS resolved
			FROM group_members m JOIN alerts a ON a.id = m.alert_id WHERE m.group_id = g.id) AS c
		WHERE g.id = $1`, id),
		&counts.Firing, &counts.Acknowledged, &counts.Resolved)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, counts, nil, klaxon.Errorf(klaxon.ENOTFOUND, "group %d not found", id)
	}
	if err != nil {
		return nil, counts, nil, fmt.Errorf("group %d: %w", id, err)
	}
	if limit <= 0 {
		return g, counts, nil, nil
	}
	members, err := queryAlerts(ctx, rtx, `SELECT `+alertColumns+` FROM alerts
		WHERE id IN (SELECT alert_id FROM group_members WHERE group_id = $1)
		ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END, level, id
		LIMIT $2`, id, limit)
	if err != nil {
		return nil, counts, nil, fmt.Errorf("group %d members: %w", id, err)
	}
	return g, counts, members, nil
}

// NextNotification reads outside any transaction and claims nothing. Both
// of its questions go in one round trip.
func (db *DB) NextNotification(ctx context.Context, channel string, now time.Time) (*klaxon.Notification, time.Time, error) {
	var b pgx.Batch
	b.Queue(`SELECT `+notificationColumns+` FROM notifications
		WHERE channel = $1 AND not_before <= $2 ORDER BY id LIMIT 1`, channel, now)
	b.Queue(`SELECT min(not_before) FROM notifications WHERE channel = $1`, channel)
	br := db.pool.SendBatch(ctx, &b)
	defer br.Close()
	n, err := scanNotification(br.QueryRow())
	if err == nil {
		return n, time.Time{}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("next notification on %s: %w", channel, err)
	}
	var next *time.Time
	if err := br.QueryRow().Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("next notification on %s: %w", channel, err)
	}
	if err := br.Close(); err != nil {
		return nil, time.Time{}, fmt.Errorf("next notification on %s: %w", channel, err)
	}
	return nil, fromNullTime(next), nil
}

// Message returns a group's message on a channel, or nil.
func (db *DB) Message(ctx context.Context, groupID int64, channel string) (*klaxon.Message, error) {
	m, err := scanMessage(db.pool.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE group_id = $1 AND channel = $2`, groupID, channel))
	if errors.Is(err, pgx.ErrNoRows) {
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
	// COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
	rows, err := db.pool.Query(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE group_id IN (SELECT group_id FROM group_members WHERE alert_id = $1)
		ORDER BY group_id, channel COLLATE "C"`, alertID)
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert %d messages: %w", alertID, err)
	}
	return out, nil
}

// Cursor returns a stored position, or "".
func (db *DB) Cursor(ctx context.Context, name string) (string, error) {
	var value string
	err := db.pool.QueryRow(ctx, `SELECT value FROM cursors WHERE name = $1`, name).Scan(&value)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("cursor %s: %w", name, err)
	}
	return value, nil
}
