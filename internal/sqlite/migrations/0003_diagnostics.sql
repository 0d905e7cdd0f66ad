-- Diagnostics runs: a runbook's read-only commands run for an alert, kept so
-- chat threads and the API can show them again. AUTOINCREMENT: a run's ID
-- names the jobs that post it, so it is never reused.
CREATE TABLE diagnostics (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id     INTEGER NOT NULL REFERENCES alerts (id),
    runbook      TEXT    NOT NULL,
    requested_by TEXT    NOT NULL, -- '' when run because the alert fired
    started_at   INTEGER NOT NULL, -- unix microseconds, as are all times here
    finished_at  INTEGER NOT NULL,
    results      TEXT    NOT NULL  -- JSON array, one object per command
);
-- Diagnostics: an alert's runs, newest first.
CREATE INDEX diagnostics_alert ON diagnostics (alert_id, id);
