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

const incidentColumns = `id, title, service, summary, level, status, public, reporter,
	detected_at, declared_at, resolved_at, commander, comms_lead, responders,
	room_channel, room_ref, room_name, checklist, next_update_at, last_update_at,
	missed_updates, escalated_at, escalation_step, root_cause, fix, impact,
	postmortem_due, postmortem_done`

// incidentSetColumns is incidentColumns without id, in the order
// incidentArgs returns.
var incidentSetColumns = strings.TrimPrefix(incidentColumns, "id, ")

// selectIncidents reads incidentColumns and the linked alerts, in the same
// statement so listings make no query per incident.
const selectIncidents = `SELECT ` + incidentColumns + `,
	ARRAY(SELECT alert_id FROM incident_alerts WHERE incident_id = incidents.id ORDER BY alert_id)
	FROM incidents`

func scanIncident(row pgx.Row) (*klaxon.Incident, error) {
	var (
		i                                          klaxon.Incident
		detectedAt, declaredAt                     time.Time
		resolvedAt, nextUpdateAt, lastUpdateAt     *time.Time
		escalatedAt, postmortemDue, postmortemDone *time.Time
		responders, checklist                      []byte
	)
	err := row.Scan(&i.ID, &i.Title, &i.Service, &i.Summary, &i.Level, &i.Status, &i.Public, &i.Reporter,
		&detectedAt, &declaredAt, &resolvedAt, &i.Commander, &i.CommsLead, &responders,
		&i.Room.Channel, &i.Room.Ref, &i.Room.Name, &checklist, &nextUpdateAt, &lastUpdateAt,
		&i.MissedUpdates, &escalatedAt, &i.EscalationStep, &i.RootCause, &i.Fix, &i.Impact,
		&postmortemDue, &postmortemDone, &i.Alerts)
	if err != nil {
		return nil, err
	}
	if i.Responders, err = unmarshalNames(responders); err != nil {
		return nil, fmt.Errorf("incident %d responders: %w", i.ID, err)
	}
	if err := json.Unmarshal(checklist, &i.Checklist); err != nil {
		return nil, fmt.Errorf("incident %d checklist: %w", i.ID, err)
	}
	if len(i.Checklist) == 0 {
		i.Checklist = nil
	}
	if i.Alerts == nil {
		i.Alerts = []int64{}
	}
	i.DetectedAt, i.DeclaredAt, i.ResolvedAt = detectedAt.UTC(), declaredAt.UTC(), fromNullTime(resolvedAt)
	i.NextUpdateAt, i.LastUpdateAt = fromNullTime(nextUpdateAt), fromNullTime(lastUpdateAt)
	i.EscalatedAt = fromNullTime(escalatedAt)
	i.PostmortemDue, i.PostmortemDone = fromNullTime(postmortemDue), fromNullTime(postmortemDone)
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
	return []any{i.Title, i.Service, i.Summary, int(i.Level), string(i.Status), i.Public, i.Reporter,
		i.DetectedAt, i.DeclaredAt, nullTime(i.ResolvedAt), i.Commander, i.CommsLead, responders,
		i.Room.Channel, i.Room.Ref, i.Room.Name, checklist, nullTime(i.NextUpdateAt), nullTime(i.LastUpdateAt),
		i.MissedUpdates, nullTime(i.EscalatedAt), i.EscalationStep, i.RootCause, i.Fix, i.Impact,
		nullTime(i.PostmortemDue), nullTime(i.PostmortemDone)}, nil
}

// marshalChecklist encodes a checklist as a JSON array, [] for none. DoneAt
// goes in UTC to the microsecond, as timestamptz keeps every other time, so
// it reads back equal.
func marshalChecklist(items []klaxon.ChecklistItem) ([]byte, error) {
	out := make([]klaxon.ChecklistItem, len(items))
	for n, c := range items {
		if !c.DoneAt.IsZero() {
			c.DoneAt = c.DoneAt.UTC().Truncate(time.Microsecond)
		}
		out[n] = c
	}
	return json.Marshal(out)
}

func oneIncident(row pgx.Row, id int64) (*klaxon.Incident, error) {
	i, err := scanIncident(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no incident %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, err)
	}
	return i, nil
}

// IncidentForUpdate locks the incident row, then reads it. Not in one
// statement: one that waited for the lock would read the links in the
// snapshot it took before waiting, missing those the holder added.
func (t *tx) IncidentForUpdate(ctx context.Context, id int64) (*klaxon.Incident, error) {
	var locked int64
	err := t.tx.QueryRow(ctx, `SELECT id FROM incidents WHERE id = $1 FOR UPDATE`, id).Scan(&locked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no incident %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, err)
	}
	return oneIncident(t.tx.QueryRow(ctx, selectIncidents+` WHERE id = $1`, id), id)
}

func (t *tx) InsertIncident(ctx context.Context, i *klaxon.Incident) error {
	args, err := incidentArgs(i)
	if err != nil {
		return fmt.Errorf("insert incident: %w", err)
	}
	err = t.tx.QueryRow(ctx, `INSERT INTO incidents (`+incidentSetColumns+`)
		VALUES (`+placeholders(1, len(args))+`) RETURNING id`, args...).Scan(&i.ID)
	if err != nil {
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
	tag, err := t.tx.Exec(ctx, `UPDATE incidents SET (`+incidentSetColumns+`)
		= (`+placeholders(1, len(args))+`) WHERE id = $`+strconv.Itoa(len(args)+1), append(args, i.ID)...)
	if err != nil {
		return fmt.Errorf("update incident %d: %w", i.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return klaxon.Errorf(klaxon.ENOTFOUND, "no incident %d", i.ID)
	}
	return nil
}

func (t *tx) LinkAlert(ctx context.Context, incidentID, alertID int64) (bool, error) {
	// Checked here rather than left to the foreign keys: a failed statement
	// would abort the transaction, and the error says which one is missing.
	var incidentFound, alertFound bool
	err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM incidents WHERE id = $1), EXISTS (SELECT 1 FROM alerts WHERE id = $2)`,
		incidentID, alertID).Scan(&incidentFound, &alertFound)
	if err != nil {
		return false, fmt.Errorf("link alert %d to incident %d: %w", alertID, incidentID, err)
	}
	if !incidentFound {
		return false, klaxon.Errorf(klaxon.ENOTFOUND, "no incident %d", incidentID)
	}
	if !alertFound {
		return false, klaxon.Errorf(klaxon.ENOTFOUND, "alert %d not found", alertID)
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO incident_alerts (incident_id, alert_id) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, incidentID, alertID)
	if err != nil {
		return false, fmt.Errorf("link alert %d to incident %d: %w", alertID, incidentID, err)
	}
	return tag.RowsAffected() > 0, nil
}

func (t *tx) AddTimeline(ctx context.Context, entries ...*klaxon.TimelineEntry) error {
	if len(entries) == 0 {
		return nil
	}
	// One round trip for the lot, as in AddEvents.
	var b pgx.Batch
	for _, e := range entries {
		b.Queue(`INSERT INTO incident_timeline (incident_id, at, actor, kind, text, public, status, alert_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			e.IncidentID, e.At, e.Actor, string(e.Kind), e.Text, e.Public, string(e.Status), nullID(e.AlertID))
	}
	br := t.tx.SendBatch(ctx, &b)
	for _, e := range entries {
		if err := br.QueryRow().Scan(&e.ID); err != nil {
			br.Close()
			return fmt.Errorf("add %s to incident %d timeline: %w", e.Kind, e.IncidentID, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("add timeline: %w", err)
	}
	return nil
}

const actionColumns = `id, incident_id, text, owner, created_by, created_at, done_by, done_at`

func scanAction(row pgx.Row) (*klaxon.ActionItem, error) {
	var (
		a      klaxon.ActionItem
		doneAt *time.Time
	)
	if err := row.Scan(&a.ID, &a.IncidentID, &a.Text, &a.Owner, &a.CreatedBy, &a.CreatedAt, &a.DoneBy, &doneAt); err != nil {
		return nil, err
	}
	a.CreatedAt, a.DoneAt = a.CreatedAt.UTC(), fromNullTime(doneAt)
	return &a, nil
}

func (t *tx) InsertAction(ctx context.Context, a *klaxon.ActionItem) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO action_items (incident_id, text, owner, created_by, created_at, done_by, done_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		a.IncidentID, a.Text, a.Owner, a.CreatedBy, a.CreatedAt, a.DoneBy, nullTime(a.DoneAt)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("insert action item of incident %d: %w", a.IncidentID, err)
	}
	return nil
}

func (t *tx) ActionForUpdate(ctx context.Context, id int64) (*klaxon.ActionItem, error) {
	a, err := scanAction(t.tx.QueryRow(ctx, `SELECT `+actionColumns+` FROM action_items WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no action item %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("action item %d: %w", id, err)
	}
	return a, nil
}

func (t *tx) UpdateAction(ctx context.Context, a *klaxon.ActionItem) error {
	tag, err := t.tx.Exec(ctx, `UPDATE action_items SET incident_id = $1, text = $2, owner = $3, created_by = $4,
		created_at = $5, done_by = $6, done_at = $7 WHERE id = $8`,
		a.IncidentID, a.Text, a.Owner, a.CreatedBy, a.CreatedAt, a.DoneBy, nullTime(a.DoneAt), a.ID)
	if err != nil {
		return fmt.Errorf("update action item %d: %w", a.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return klaxon.Errorf(klaxon.ENOTFOUND, "no action item %d", a.ID)
	}
	return nil
}

func (t *tx) SetComponentStatus(ctx context.Context, c klaxon.ComponentStatus) error {
	if c.Status == "" {
		if _, err := t.tx.Exec(ctx, `DELETE FROM component_statuses WHERE component = $1`, c.Component); err != nil {
			return fmt.Errorf("clear status of %s: %w", c.Component, err)
		}
		return nil
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO component_statuses (component, status, set_by, set_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (component) DO UPDATE SET status = excluded.status, set_by = excluded.set_by, set_at = excluded.set_at`,
		c.Component, c.Status, c.SetBy, c.SetAt)
	if err != nil {
		return fmt.Errorf("set status of %s: %w", c.Component, err)
	}
	return nil
}

// Incident reads one incident outside any transaction.
func (db *DB) Incident(ctx context.Context, id int64) (*klaxon.Incident, error) {
	return oneIncident(db.pool.QueryRow(ctx, selectIncidents+` WHERE id = $1`, id), id)
}

// Incidents lists incidents outside any transaction, newest first.
func (db *DB) Incidents(ctx context.Context, f klaxon.IncidentFilter) ([]*klaxon.Incident, error) {
	var (
		where []string
		args  []any
	)
	if f.Open {
		where = append(where, `status <> 'resolved'`)
	}
	if !f.Since.IsZero() {
		args = append(args, f.Since)
		where = append(where, `(declared_at >= $`+strconv.Itoa(len(args))+` OR status <> 'resolved')`)
	}
	query := selectIncidents
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY id DESC`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		query += ` LIMIT $` + strconv.Itoa(len(args))
	}
	rows, err := db.pool.Query(ctx, query, args...)
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

// IncidentByRoom reads outside any transaction. Should a room ever be
// reused, the newest incident has it.
func (db *DB) IncidentByRoom(ctx context.Context, channel, ref string) (*klaxon.Incident, error) {
	if ref == "" {
		return nil, nil // rooms not yet opened all have this ref
	}
	// room_ref <> '' lets the planner use the partial index.
	i, err := scanIncident(db.pool.QueryRow(ctx, selectIncidents+`
		WHERE room_channel = $1 AND room_ref = $2 AND room_ref <> '' ORDER BY id DESC LIMIT 1`, channel, ref))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("incident of room %s on %s: %w", ref, channel, err)
	}
	return i, nil
}

// Timeline reads an incident's entries outside any transaction.
func (db *DB) Timeline(ctx context.Context, incidentID int64) ([]klaxon.TimelineEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, incident_id, at, actor, kind, text, public, status, alert_id
		FROM incident_timeline WHERE incident_id = $1 ORDER BY at, id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("incident %d timeline: %w", incidentID, err)
	}
	defer rows.Close()
	var out []klaxon.TimelineEntry
	for rows.Next() {
		var (
			e       klaxon.TimelineEntry
			alertID *int64
		)
		if err := rows.Scan(&e.ID, &e.IncidentID, &e.At, &e.Actor, &e.Kind, &e.Text, &e.Public, &e.Status, &alertID); err != nil {
			return nil, fmt.Errorf("incident %d timeline: %w", incidentID, err)
		}
		e.At = e.At.UTC()
		if alertID != nil {
			e.AlertID = *alertID
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident %d timeline: %w", incidentID, err)
	}
	return out, nil
}

// Actions lists action items outside any transaction.
func (db *DB) Actions(ctx context.Context, f klaxon.ActionFilter) ([]klaxon.ActionItem, error) {
	var (
		where []string
		args  []any
	)
	if f.IncidentID != 0 {
		args = append(args, f.IncidentID)
		where = append(where, `incident_id = $`+strconv.Itoa(len(args)))
	}
	if f.Open {
		where = append(where, `done_at IS NULL`)
	}
	query := `SELECT ` + actionColumns + ` FROM action_items`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := db.pool.Query(ctx, query+` ORDER BY id`, args...)
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

// ComponentStatuses reads outside any transaction.
func (db *DB) ComponentStatuses(ctx context.Context) ([]klaxon.ComponentStatus, error) {
	// COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
	rows, err := db.pool.Query(ctx, `SELECT component, status, set_by, set_at FROM component_statuses ORDER BY component COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("component statuses: %w", err)
	}
	defer rows.Close()
	var out []klaxon.ComponentStatus
	for rows.Next() {
		var c klaxon.ComponentStatus
		if err := rows.Scan(&c.Component, &c.Status, &c.SetBy, &c.SetAt); err != nil {
			return nil, fmt.Errorf("component statuses: %w", err)
		}
		c.SetAt = c.SetAt.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("component statuses: %w", err)
	}
	return out, nil
}
