-- Notification groups: the alerts one route sends together. A group is open
-- while closed_at is NULL; an alert matching a closed group's route and key
-- starts a new group.
CREATE TABLE alert_groups (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    route      text        NOT NULL,
    key        text        NOT NULL,
    labels     jsonb       NOT NULL, -- object
    created_at timestamptz NOT NULL,
    closed_at  timestamptz
);
-- At most one open group per route and key, across every replica; also
-- OpenGroup's lookup.
CREATE UNIQUE INDEX alert_groups_open ON alert_groups (route, key) WHERE closed_at IS NULL;

CREATE TABLE group_members (
    group_id bigint NOT NULL REFERENCES alert_groups (id),
    alert_id bigint NOT NULL REFERENCES alerts (id),
    PRIMARY KEY (group_id, alert_id)
);
-- AlertGroups and AlertMessages go from an alert to its groups.
CREATE INDEX group_members_alert ON group_members (alert_id, group_id);

-- The outbox: at most one pending delivery per channel and group; a change
-- while one is pending bumps its version. An identity never hands out the
-- same ID twice, so FinishNotification(id, version) from a late sender cannot
-- remove a newer notification.
CREATE TABLE notifications (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel    text        NOT NULL,
    group_id   bigint      NOT NULL REFERENCES alert_groups (id),
    version    bigint      NOT NULL,
    remind     boolean     NOT NULL,
    not_before timestamptz NOT NULL,
    attempts   integer     NOT NULL,
    last_error text        NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (channel, group_id)
);
-- NextNotification: the lowest due ID of a channel, walking IDs in order...
CREATE INDEX notifications_channel ON notifications (channel, id);
-- ...and, when none is due, the channel's earliest not_before.
CREATE INDEX notifications_not_before ON notifications (channel, not_before);

-- What Klaxon knows of the message each group produced on each channel.
CREATE TABLE messages (
    group_id   bigint      NOT NULL REFERENCES alert_groups (id),
    channel    text        NOT NULL,
    ref        text        NOT NULL,
    sends      integer     NOT NULL,
    sent_at    timestamptz,
    last_error text        NOT NULL,
    failed_at  timestamptz,
    PRIMARY KEY (group_id, channel)
);

-- Positions kept across restarts, e.g. a Matrix sync token.
CREATE TABLE cursors (
    name  text PRIMARY KEY,
    value text NOT NULL
);
