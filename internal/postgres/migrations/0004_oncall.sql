-- Overrides added at run time (CLI, API, chat); those in the configuration
-- are not stored. An identity never hands out the same ID twice, so deleting
-- an override by its ID never removes a newer one.
CREATE TABLE overrides (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schedule   text        NOT NULL,
    user_name  text        NOT NULL,
    replaces   text        NOT NULL, -- '' when it replaces whoever is on call
    start_at   timestamptz NOT NULL,
    end_at     timestamptz NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL
);
-- Overrides: a schedule's overrides ending after a time. Keyed on end_at,
-- not start_at: past overrides pile up, and end_at > from skips them all.
CREATE INDEX overrides_schedule ON overrides (schedule, end_at);

-- Escalations: each group's walk through its escalation policy, one row per
-- group, replaced as it advances.
CREATE TABLE escalations (
    group_id    bigint      PRIMARY KEY REFERENCES alert_groups (id),
    policy      text        NOT NULL,
    epoch       bigint      NOT NULL,
    step        integer     NOT NULL,
    due_at      timestamptz,          -- NULL once stopped
    started_at  timestamptz NOT NULL,
    stopped_at  timestamptz,          -- NULL while running
    stop_reason text        NOT NULL,
    mention     jsonb       NOT NULL, -- array of user names
    paged       jsonb       NOT NULL  -- array of channel names
);
