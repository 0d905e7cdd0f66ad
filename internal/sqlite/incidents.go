package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/klaxon-oss/klaxon"
)

const incidentColumns = `id, title, service, summary, level, status, public, reporter,
	detected_at, declared_at, resolved_at, commander, comms_lead, responders,
	room_channel, room_ref, room_name, checklist, next_update_at, last_update_at,
	missed_updates, escalated_at, escalation_step, root_cause, fix, impact,
	postmortem_due, postmortem_done`

// selectIncidents reads incidentColumns and the linked alerts, in the same
// statement so listings make no query per incident.
const selectIncidents = `SELECT ` + incidentColumns + `,
	(SELECT json_group_array(alert_id) FROM incident_alerts WHERE incident_id = incidents.id)
	FROM incidents`

func scanIncident(row scanner) (*klaxon.Incident, error) {
	var (
		i                                          klaxon.Incident
		detectedAt, declaredAt                     int64
		resolvedAt, nextUpdateAt, lastUpdateAt     sql.NullInt64
		escalatedAt, postmortemDue, postmortemDone sql.NullInt64
		responders, checklist, alerts              string
	)
	err := row.Scan(&i.ID, &i.Title, &i.Service, &i.Summary, &i.Level, &i.Status, &i.Public, &i.Reporter,
		&detectedAt, &declaredAt, &resolvedAt, &i.Commander, &i.CommsLead, &responders,
		&i.Room.Channel, &i.Room.Ref, &i.Room.Name, &checklist, &nextUpdateAt, &lastUpdateAt,
		&i.MissedUpdates, &escalatedAt, &i.EscalationStep, &i.RootCause, &i.Fix, &i.Impact,
		&postmortemDue, &postmortemDone, &alerts)
	if err != nil {
		return nil, err
	}
	if i.Responders, err = unmarshalNames(responders); err != nil {
		return nil, fmt.Errorf("incident %d responders: %w", i.ID, err)
	}
	if err := json.Unmarshal([]byte(checklist), &i.Checklist); err != nil {
		return nil, fmt.Errorf("incident %d checklist: %w", i.ID, err)
	}
	if len(i.Checklist) == 0 {
		i.Checklist = nil
	}
	i.Alerts = []int64{}
	if err := json.Unmarshal([]byte(alerts), &i.Alerts); err != nil {
		return nil, fmt.Errorf("incident %d alerts: %w", i.ID, err)
	}
	slices.Sort(i.Alerts) // json_group_array promises no order
	i.DetectedAt, i.DeclaredAt, i.ResolvedAt = fromMicros(detectedAt), fromMicros(declaredAt), fromNullMicros(resolvedAt)
	i.NextUpdateAt, i.LastUpdateAt = fromNullMicros(nextUpdateAt), fromNullMicros(lastUpdateAt)
	i.EscalatedAt = fromNullMicros(escalatedAt)
	i.PostmortemDue, i.PostmortemDone = fromNullMicros(postmortemDue), fromNullMicros(postmortemDone)
	return &i, nil
}

// incidentArgs returns the values of every column but id, in
// incidentColumns order.
func incidentArgs(i *klaxon.Incident) ([]any, error) {
	responders, err := marshalNames(i.Responders)
	if err != nil {
		return nil, err
	}
	checklist, err := marshalChecklist(i.Checklist)
	if err != nil {
		return nil, err
	}
	return []any{i.Title, i.Service, i.Summary, i.Level, i.Status, i.Public, i.Reporter,
		micros(i.DetectedAt), micros(i.DeclaredAt), nullMicros(i.ResolvedAt), i.Commander, i.CommsLead, responders,
		i.Room.Channel, i.Room.Ref, i.Room.Name, checklist, nullMicros(i.NextUpdateAt), nullMicros(i.LastUpdateAt),
		i.MissedUpdates, nullMicros(i.EscalatedAt), i.EscalationStep, i.RootCause, i.Fix, i.Impact,
		nullMicros(i.PostmortemDue), nullMicros(i.PostmortemDone)}, nil
}

// marshalChecklist encodes a checklist as a JSON array, [] for none. DoneAt
// goes in UTC to the microsecond, like every other stored time, so it reads
// back equal.
func marshalChecklist(items []klaxon.ChecklistItem) (string, error) {
	out := make([]klaxon.ChecklistItem, len(items))
	for n, c := range items {
		if !c.DoneAt.IsZero() {
			c.DoneAt = fromMicros(micros(c.DoneAt))
		}
		out[n] = c
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func oneIncident(row *sql.Row, id int64) (*klaxon.Incident, error) {
	i, err := scanIncident(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no incident %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, err)
	}
	return i, nil
}

func (t *tx) IncidentForUpdate(ctx context.Context, id int64) (*klaxon.Incident, error) {
	// The writer's lock makes this a locked read, as in AlertForUpdate.
	s, err := t.stmt(ctx, selectIncidents+` WHERE id = ?`)
	if err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, err)
	}
	return oneIncident(s.QueryRowContext(ctx, id), id)
}

func (t *tx) InsertIncident(ctx context.Context, i *klaxon.Incident) error {
	args, err := incidentArgs(i)
	if err != nil {
		return fmt.Errorf("insert incident: %w", err)
	}
	res, err := t.exec(ctx, `INSERT INTO incidents (`+strings.TrimPrefix(incidentColumns, "id, ")+`)
		VALUES (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return fmt.Errorf("insert incident: %w", err)
	}
	if i.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("insert incident: %w", err)
	}
	for _, alertID := range i.Alerts {
		if _, err := t.LinkAlert(ctx, i.ID, alertID); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) UpdateIncident(ctx context.Context, i *klaxon.Incident) error {
	args, err := incidentArgs(i)
	if err != nil {
		return fmt.Errorf("update incident %d: %w", i.ID, err)
	}
	res, err := t.exec(ctx, `UPDATE incidents SET (`+strings.TrimPrefix(incidentColumns, "id, ")+`)
		= (`+placeholders(len(args))+`) WHERE id = ?`, append(args, i.ID)...)
	if err != nil {
		return fmt.Errorf("update incident %d: %w", i.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return klaxon.Errorf(klaxon.ENOTFOUND, "no incident %d", i.ID)
	}
	return nil
}

func (t *tx) LinkAlert(ctx context.Context, incidentID, alertID int64) (bool, error) {
	// Checked here rather than left to the foreign keys, so the error says
	// which one is missing.
	s, err := t.stmt(ctx, `SELECT EXISTS (SELECT 1 FROM incidents WHERE id = ?), EXISTS (SELECT 1 FROM alerts WHERE id = ?)`)
	if err != nil {
		return false, fmt.Errorf("link alert %d to incident %d: %w", alertID, incidentID, err)
	}
	var incidentFound, alertFound bool
	if err := s.QueryRowContext(ctx, incidentID, alertID).Scan(&incidentFound, &alertFound); err != nil {
		return false, fmt.Errorf("link alert %d to incident %d: %w", alertID, incidentID, err)
	}
	if !incidentFound {
		return false, klaxon.Errorf(klaxon.ENOTFOUND, "no incident %d", incidentID)
	}
	if !alertFound {
		return false, klaxon.Errorf(klaxon.ENOTFOUND, "alert %d not found", alertID)
	}
	res, err := t.exec(ctx, `INSERT INTO incident_alerts (incident_id, alert_id) VALUES (?, ?)
		ON CONFLICT DO NOTHING`, incidentID, alertID)
	if err != nil {
		return false, fmt.Errorf("link alert %d to incident %d: %w", alertID, incidentID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (t *tx) AddTimeline(ctx context.Context, entries ...*klaxon.TimelineEntry) error {
	// One row per statement: SQLite does not say in which order a
	// multi-row insert returns its IDs.
	for _, e := range entries {
		res, err := t.exec(ctx, `INSERT INTO incident_timeline (incident_id, at, actor, kind, text, public, status, alert_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			e.IncidentID, micros(e.At), e.Actor, e.Kind, e.Text, e.Public, e.Status, nullID(e.AlertID))
		if err != nil {
			return fmt.Errorf("add %s to incident %d timeline: %w", e.Kind, e.IncidentID, err)
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("add %s to incident %d timeline: %w", e.Kind, e.IncidentID, err)
		}
	}
	return nil
}

const actionColumns = `id, incident_id, text, owner, created_by, created_at, done_by, done_at`

func scanAction(row scanner) (*klaxon.ActionItem, error) {
	var (
		a         klaxon.ActionItem
		createdAt int64
		doneAt    sql.NullInt64
	)
	if err := row.Scan(&a.ID, &a.IncidentID, &a.Text, &a.Owner, &a.CreatedBy, &createdAt, &a.DoneBy, &doneAt); err != nil {
		return nil, err
	}
	a.CreatedAt, a.DoneAt = fromMicros(createdAt), fromNullMicros(doneAt)
	return &a, nil
}

func (t *tx) InsertAction(ctx context.Context, a *klaxon.ActionItem) error {
	res, err := t.exec(ctx, `INSERT INTO action_items (incident_id, text, owner, created_by, created_at, done_by, done_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.IncidentID, a.Text, a.Owner, a.CreatedBy, micros(a.CreatedAt), a.DoneBy, nullMicros(a.DoneAt))
	if err != nil {
		return fmt.Errorf("insert action item of incident %d: %w", a.IncidentID, err)
	}
	a.ID, err = res.LastInsertId()
	return err
}

func (t *tx) ActionForUpdate(ctx context.Context, id int64) (*klaxon.ActionItem, error) {
	// The writer's lock makes this a locked read, as in AlertForUpdate.
	s, err := t.stmt(ctx, `SELECT `+actionColumns+` FROM action_items WHERE id = ?`)
	if err != nil {
		return nil, fmt.Errorf("action item %d: %w", id, err)
	}
	a, err := scanAction(s.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no action item %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("action item %d: %w", id, err)
	}
	return a, nil
}

func (t *tx) UpdateAction(ctx context.Context, a *klaxon.ActionItem) error {
	res, err := t.exec(ctx, `UPDATE action_items SET incident_id = ?, text = ?, owner = ?, created_by = ?,
		created_at = ?, done_by = ?, done_at = ? WHERE id = ?`,
		a.IncidentID, a.Text, a.Owner, a.CreatedBy, micros(a.CreatedAt), a.DoneBy, nullMicros(a.DoneAt), a.ID)
	if err != nil {
		return fmt.Errorf("update action item %d: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return klaxon.Errorf(klaxon.ENOTFOUND, "no action item %d", a.ID)
	}
	return nil
}

func (t *tx) SetComponentStatus(ctx context.Context, c klaxon.ComponentStatus) error {
	if c.Status == "" {
		if _, err := t.exec(ctx, `DELETE FROM component_statuses WHERE component = ?`, c.Component); err != nil {
			return fmt.Errorf("clear status of %s: %w", c.Component, err)
		}
		return nil
	}
	_, err := t.exec(ctx, `INSERT INTO component_statuses (component, status, set_by, set_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (component) DO UPDATE SET status = excluded.status, set_by = excluded.set_by, set_at = excluded.set_at`,
		c.Component, c.Status, c.SetBy, micros(c.SetAt))
	if err != nil {
		return fmt.Errorf("set status of %s: %w", c.Component, err)
	}
	return nil
}

// Incident reads one incident from the reader pool.
func (db *DB) Incident(ctx context.Context, id int64) (*klaxon.Incident, error) {
	return oneIncident(db.read.QueryRowContext(ctx, selectIncidents+` WHERE id = ?`, id), id)
}

// Incidents lists incidents from the reader pool, newest first.
func (db *DB) Incidents(ctx context.Context, f klaxon.IncidentFilter) ([]*klaxon.Incident, error) {
	var (
		where []string
		args  []any
	)
	if f.Open {
		where = append(where, `status <> 'resolved'`)
	}
	if !f.Since.IsZero() {
		where = append(where, `(declared_at >= ? OR status <> 'resolved')`)
		args = append(args, micros(f.Since))
	}
	query := selectIncidents
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []*klaxon.Incident
	for rows.Next() {
		i, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}

// IncidentByRoom reads from the reader pool. Should a room ever be reused,
// the newest incident has it.
func (db *DB) IncidentByRoom(ctx context.Context, channel, ref string) (*klaxon.Incident, error) {
	if ref == "" {
		return nil, nil // rooms not yet opened all have this ref
	}
	// room_ref <> '' lets SQLite use the partial index.
	i, err := scanIncident(db.read.QueryRowContext(ctx, selectIncidents+`
		WHERE room_channel = ? AND room_ref = ? AND room_ref <> '' ORDER BY id DESC LIMIT 1`, channel, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("incident of room %s on %s: %w", ref, channel, err)
	}
	return i, nil
}

// Timeline reads an incident's entries from the reader pool.
func (db *DB) Timeline(ctx context.Context, incidentID int64) ([]klaxon.TimelineEntry, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, incident_id, at, actor, kind, text, public, status, alert_id
		FROM incident_timeline WHERE incident_id = ? ORDER BY at, id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("incident %d timeline: %w", incidentID, err)
	}
	defer rows.Close()
	var out []klaxon.TimelineEntry
	for rows.Next() {
		var (
			e       klaxon.TimelineEntry
			at      int64
			alertID sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Actor, &e.Kind, &e.Text, &e.Public, &e.Status, &alertID); err != nil {
			return nil, fmt.Errorf("incident %d timeline: %w", incidentID, err)
		}
		e.At, e.AlertID = fromMicros(at), alertID.Int64
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident %d timeline: %w", incidentID, err)
	}
	return out, nil
}

// Actions lists action items from the reader pool.
func (db *DB) Actions(ctx context.Context, f klaxon.ActionFilter) ([]klaxon.ActionItem, error) {
	var (
		where []string
		args  []any
	)
	if f.IncidentID != 0 {
		where = append(where, `incident_id = ?`)
		args = append(args, f.IncidentID)
	}
	if f.Open {
		where = append(where, `done_at IS NULL`)
	}
	query := `SELECT ` + actionColumns + ` FROM action_items`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := db.read.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list action items: %w", err)
	}
	defer rows.Close()
	var out []klaxon.ActionItem
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, fmt.Errorf("list action items: %w", err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list action items: %w", err)
	}
	return out, nil
}

// ComponentStatuses reads from the reader pool.
func (db *DB) ComponentStatuses(ctx context.Context) ([]klaxon.ComponentStatus, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT component, status, set_by, set_at FROM component_statuses ORDER BY component`)
	if err != nil {
		return nil, fmt.Errorf("component statuses: %w", err)
	}
	defer rows.Close()
	var out []klaxon.ComponentStatus
	for rows.Next() {
		var (
			c     klaxon.ComponentStatus
			setAt int64
		)
		if err := rows.Scan(&c.Component, &c.Status, &c.SetBy, &setAt); err != nil {
			return nil, fmt.Errorf("component statuses: %w", err)
		}
		c.SetAt = fromMicros(setAt)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("component statuses: %w", err)
	}
	return out, nil
}
