-- Incidents: outages run as one. People type an incident's ID ("incident 7
-- update …"); an identity never hands out the same value twice.
CREATE TABLE incidents (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title           text        NOT NULL,
    service         text        NOT NULL,
    summary         text        NOT NULL,
    level           integer     NOT NULL,
    status          text        NOT NULL,
    public          boolean     NOT NULL,
    reporter        text        NOT NULL,
    detected_at     timestamptz NOT NULL,
    declared_at     timestamptz NOT NULL,
    resolved_at     timestamptz,
    commander       text        NOT NULL,
    comms_lead      text        NOT NULL,
    responders      jsonb       NOT NULL, -- array of names
    room_channel    text        NOT NULL, -- '' when no room was asked for
    room_ref        text        NOT NULL, -- '' until the room is opened
    room_name       text        NOT NULL,
    checklist       jsonb       NOT NULL, -- array of items, done_at in UTC
    next_update_at  timestamptz,
    last_update_at  timestamptz,
    missed_updates  integer     NOT NULL,
    escalated_at    timestamptz,
    escalation_step integer     NOT NULL,
    root_cause      text        NOT NULL,
    fix             text        NOT NULL,
    impact          text        NOT NULL,
    postmortem_due  timestamptz,
    postmortem_done timestamptz
);
-- IncidentByRoom: chat commands in a room find their incident. Rooms not
-- yet opened have no ref and are never looked up.
CREATE INDEX incidents_room ON incidents (room_channel, room_ref) WHERE room_ref <> '';

-- The alerts linked to each incident.
CREATE TABLE incident_alerts (
    incident_id bigint NOT NULL REFERENCES incidents (id),
    alert_id    bigint NOT NULL REFERENCES alerts (id),
    PRIMARY KEY (incident_id, alert_id)
);

-- An incident's own timeline; linked alerts' histories stay in alert_events.
CREATE TABLE incident_timeline (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id bigint      NOT NULL REFERENCES incidents (id),
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    kind        text        NOT NULL,
    text        text        NOT NULL,
    public      boolean     NOT NULL,
    status      text        NOT NULL,
    alert_id    bigint      REFERENCES alerts (id)
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at, id);

-- Follow-ups of incidents. People type an action item's ID ("action done
-- 4"); an identity never hands out the same value twice.
CREATE TABLE action_items (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id bigint      NOT NULL REFERENCES incidents (id),
    text        text        NOT NULL,
    owner       text        NOT NULL,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    done_by     text        NOT NULL,
    done_at     timestamptz           -- NULL while open
);
CREATE INDEX action_items_incident ON action_items (incident_id, id);

-- Status-page components' statuses set by hand; clearing one deletes its row.
CREATE TABLE component_statuses (
    component text        PRIMARY KEY,
    status    text        NOT NULL,
    set_by    text        NOT NULL,
    set_at    timestamptz NOT NULL
);
