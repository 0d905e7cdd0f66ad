-- Alerts: one row per occurrence. id is the short number people type; an
-- identity column never hands out the same value twice, so "ack 12" always
-- means the same alert (gaps after a rollback are fine).
CREATE TABLE alerts (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration text        NOT NULL,
    key         text        NOT NULL,
    state       text        NOT NULL,
    level       integer     NOT NULL,
    severity    text        NOT NULL,
    summary     text        NOT NULL,
    labels      jsonb       NOT NULL, -- object
    annotations jsonb       NOT NULL, -- object
    details     jsonb,                -- as the source sent it (jsonb normalises key order and spacing)
    links       jsonb,                -- array
    source_url  text        NOT NULL,
    starts_at   timestamptz NOT NULL,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    count       integer     NOT NULL,
    acked_by    text        NOT NULL,
    acked_at    timestamptz,
    resolved_by text        NOT NULL,
    resolved_at timestamptz,
    previous_id bigint      REFERENCES alerts (id)
);
-- At most one open occurrence per source identity, across every replica.
CREATE UNIQUE INDEX alerts_open_key ON alerts (integration, key) WHERE state <> 'resolved';
CREATE INDEX alerts_key ON alerts (integration, key, id);
CREATE INDEX alerts_state ON alerts (state, id);

CREATE TABLE alert_events (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id bigint      NOT NULL REFERENCES alerts (id),
    at       timestamptz NOT NULL,
    kind     text        NOT NULL,
    actor    text        NOT NULL,
    message  text        NOT NULL
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

CREATE TABLE heartbeats (
    name          text        PRIMARY KEY,
    timeout_ms    bigint      NOT NULL,
    last_check_in timestamptz,
    deadline      timestamptz NOT NULL,
    alert_id      bigint      REFERENCES alerts (id)
);
