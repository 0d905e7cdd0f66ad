-- Accounts: the people who sign in. AUTOINCREMENT: tokens and sessions name
-- their account by ID, so an ID is never handed to a newer account.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NOCASE folds ASCII letters only; the PostgreSQL store folds the same
    -- ones, so both agree on which usernames collide.
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    name          TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    role          INTEGER NOT NULL,
    password_hash TEXT    NOT NULL, -- '' when there is no password sign-in
    oidc_subject  TEXT    NOT NULL, -- '' when there is no single sign-on
    created_at    INTEGER NOT NULL, -- unix microseconds, as are all times here
    last_login_at INTEGER,
    disabled_at   INTEGER
);
-- AccountBySubject; one account per identity-provider subject.
CREATE UNIQUE INDEX accounts_oidc_subject ON accounts (oidc_subject) WHERE oidc_subject <> '';

-- Personal API tokens, by the SHA-256 of the token.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    name         TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE,
    hint         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER           -- NULL: never
);
CREATE INDEX api_tokens_account ON api_tokens (account_id, id);

-- Signed-in browsers, by the SHA-256 of the cookie's value.
CREATE TABLE sessions (
    hash       BLOB    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
-- DeleteSessions sweeps the expired ones; DeleteAccountSessions signs an
-- account out everywhere.
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_account ON sessions (account_id);

-- Who each escalation step called: the on-call load Insights counts.
CREATE TABLE page_records (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    person   TEXT    NOT NULL,
    group_id INTEGER NOT NULL REFERENCES alert_groups (id),
    level    INTEGER NOT NULL,
    channel  TEXT    NOT NULL
);
CREATE INDEX page_records_at ON page_records (at, id);

-- The alert list's filters. Each keeps the ID so a filtered page reads the
-- index newest first and stops at the limit; first_seen serves time ranges
-- and Insights' AlertFacts.
CREATE INDEX alerts_level ON alerts (level, id);
CREATE INDEX alerts_first_seen ON alerts (first_seen);
