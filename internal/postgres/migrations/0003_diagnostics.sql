-- Diagnostics runs: a runbook's read-only commands run for an alert, kept so
-- chat threads and the API can show them again. An identity never hands out
-- the same ID twice, so the jobs that post a run always name that run.
CREATE TABLE diagnostics (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id     bigint      NOT NULL REFERENCES alerts (id),
    runbook      text        NOT NULL,
    requested_by text        NOT NULL, -- '' when run because the alert fired
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    results      jsonb       NOT NULL  -- array, one object per command
);
-- Diagnostics: an alert's runs, newest first.
CREATE INDEX diagnostics_alert ON diagnostics (alert_id, id);
