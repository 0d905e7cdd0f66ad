-- Overrides added at run time (CLI, API, chat); those in the configuration
-- are not stored. AUTOINCREMENT: people delete an override by its ID, so an
-- ID is never handed to a newer one.
CREATE TABLE overrides (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule   TEXT    NOT NULL,
    user_name  TEXT    NOT NULL,
    replaces   TEXT    NOT NULL, -- '' when it replaces whoever is on call
    start_at   INTEGER NOT NULL, -- unix microseconds, as are all times here
    end_at     INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
-- Overrides: a schedule's overrides ending after a time. Keyed on end_at,
-- not start_at: past overrides pile up, and end_at > from skips them all.
CREATE INDEX overrides_schedule ON overrides (schedule, end_at);

-- Escalations: each group's walk through its escalation policy, one row per
-- group, replaced as it advances.
CREATE TABLE escalations (
    group_id    INTEGER PRIMARY KEY REFERENCES alert_groups (id),
    policy      TEXT    NOT NULL,
    epoch       INTEGER NOT NULL,
    step        INTEGER NOT NULL,
    due_at      INTEGER,          -- NULL once stopped
    started_at  INTEGER NOT NULL,
    stopped_at  INTEGER,          -- NULL while running
    stop_reason TEXT    NOT NULL,
    mention     TEXT    NOT NULL, -- JSON array of user names
    paged       TEXT    NOT NULL  -- JSON array of channel names
);
