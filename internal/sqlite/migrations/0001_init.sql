-- Alerts: one row per occurrence. id is the short number people type; it is
-- never reused (AUTOINCREMENT), so "ack 12" always means the same alert.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    integration TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    level       INTEGER NOT NULL,
    severity    TEXT    NOT NULL,
    summary     TEXT    NOT NULL,
    labels      TEXT    NOT NULL, -- JSON object
    annotations TEXT    NOT NULL, -- JSON object
    details     TEXT,             -- JSON, as the source sent it
    links       TEXT,             -- JSON array
    source_url  TEXT    NOT NULL,
    starts_at   INTEGER NOT NULL, -- unix microseconds, as are all times here
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    acked_by    TEXT    NOT NULL,
    acked_at    INTEGER,
    resolved_by TEXT    NOT NULL,
    resolved_at INTEGER,
    previous_id INTEGER REFERENCES alerts (id)
);
-- At most one open occurrence per source identity.
CREATE UNIQUE INDEX alerts_open_key ON alerts (integration, key) WHERE state <> 'resolved';
CREATE INDEX alerts_key ON alerts (integration, key, id);
CREATE INDEX alerts_state ON alerts (state, id);

CREATE TABLE alert_events (
    id       INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    at       INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    message  TEXT    NOT NULL
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

CREATE TABLE heartbeats (
    name          TEXT PRIMARY KEY,
    timeout_ms    INTEGER NOT NULL,
    last_check_in INTEGER,
    deadline      INTEGER NOT NULL,
    alert_id      INTEGER REFERENCES alerts (id)
);
