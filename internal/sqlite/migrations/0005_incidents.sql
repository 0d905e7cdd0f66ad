-- Incidents: outages run as one. AUTOINCREMENT: people type an incident's ID
-- ("incident 7 update …"), so it is never handed to a newer one.
CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    title           TEXT    NOT NULL,
    service         TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    level           INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    public          INTEGER NOT NULL, -- 0 or 1
    reporter        TEXT    NOT NULL,
    detected_at     INTEGER NOT NULL, -- unix microseconds, as are all times here
    declared_at     INTEGER NOT NULL,
    resolved_at     INTEGER,
    commander       TEXT    NOT NULL,
    comms_lead      TEXT    NOT NULL,
    responders      TEXT    NOT NULL, -- JSON array of names
    room_channel    TEXT    NOT NULL, -- '' when no room was asked for
    room_ref        TEXT    NOT NULL, -- '' until the room is opened
    room_name       TEXT    NOT NULL,
    checklist       TEXT    NOT NULL, -- JSON array of items, done_at in UTC
    next_update_at  INTEGER,
    last_update_at  INTEGER,
    missed_updates  INTEGER NOT NULL,
    escalated_at    INTEGER,
    escalation_step INTEGER NOT NULL,
    root_cause      TEXT    NOT NULL,
    fix             TEXT    NOT NULL,
    impact          TEXT    NOT NULL,
    postmortem_due  INTEGER,
    postmortem_done INTEGER
);
-- IncidentByRoom: chat commands in a room find their incident. Rooms not
-- yet opened have no ref and are never looked up.
CREATE INDEX incidents_room ON incidents (room_channel, room_ref) WHERE room_ref <> '';

-- The alerts linked to each incident.
CREATE TABLE incident_alerts (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    alert_id    INTEGER NOT NULL REFERENCES alerts (id),
    PRIMARY KEY (incident_id, alert_id)
) WITHOUT ROWID;

-- An incident's own timeline; linked alerts' histories stay in alert_events.
CREATE TABLE incident_timeline (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    public      INTEGER NOT NULL, -- 0 or 1
    status      TEXT    NOT NULL,
    alert_id    INTEGER REFERENCES alerts (id)
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at, id);

-- Follow-ups of incidents. AUTOINCREMENT: people type an action item's ID
-- ("action done 4").
CREATE TABLE action_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    text        TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    done_by     TEXT    NOT NULL,
    done_at     INTEGER           -- NULL while open
);
CREATE INDEX action_items_incident ON action_items (incident_id, id);

-- Status-page components' statuses set by hand; clearing one deletes its row.
CREATE TABLE component_statuses (
    component TEXT    PRIMARY KEY,
    status    TEXT    NOT NULL,
    set_by    TEXT    NOT NULL,
    set_at    INTEGER NOT NULL
) WITHOUT ROWID;
