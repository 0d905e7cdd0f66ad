-- Notification groups: the alerts one route sends together. A group is open
-- while closed_at is NULL; an alert matching a closed group's route and key
-- starts a new group. AUTOINCREMENT: a group's ID names its messages and its
-- reminder jobs, so it is never reused.
CREATE TABLE alert_groups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    route      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    labels     TEXT    NOT NULL, -- JSON object
    created_at INTEGER NOT NULL, -- unix microseconds, as are all times here
    closed_at  INTEGER
);
-- At most one open group per route and key; also OpenGroup's lookup.
CREATE UNIQUE INDEX alert_groups_open ON alert_groups (route, key) WHERE closed_at IS NULL;

CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES alert_groups (id),
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    PRIMARY KEY (group_id, alert_id)
) WITHOUT ROWID;
-- AlertGroups and AlertMessages go from an alert to its groups.
CREATE INDEX group_members_alert ON group_members (alert_id, group_id);

-- The outbox: at most one pending delivery per channel and group; a change
-- while one is pending bumps its version. AUTOINCREMENT: a finished row's ID
-- is never handed to a new one, so FinishNotification(id, version) from a
-- late sender cannot remove a newer notification.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel    TEXT    NOT NULL,
    group_id   INTEGER NOT NULL REFERENCES alert_groups (id),
    version    INTEGER NOT NULL,
    remind     INTEGER NOT NULL, -- 0 or 1
    not_before INTEGER NOT NULL,
    attempts   INTEGER NOT NULL,
    last_error TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (channel, group_id)
);
-- NextNotification: the lowest due ID of a channel, walking IDs in order...
CREATE INDEX notifications_channel ON notifications (channel, id);
-- ...and, when none is due, the channel's earliest not_before.
CREATE INDEX notifications_not_before ON notifications (channel, not_before);

-- What Klaxon knows of the message each group produced on each channel.
CREATE TABLE messages (
    group_id   INTEGER NOT NULL REFERENCES alert_groups (id),
    channel    TEXT    NOT NULL,
    ref        TEXT    NOT NULL,
    sends      INTEGER NOT NULL,
    sent_at    INTEGER,
    last_error TEXT    NOT NULL,
    failed_at  INTEGER,
    PRIMARY KEY (group_id, channel)
) WITHOUT ROWID;

-- Positions kept across restarts, e.g. a Matrix sync token.
CREATE TABLE cursors (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
