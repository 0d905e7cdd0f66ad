-- Accounts: the people who sign in. Tokens and sessions name their account
-- by ID; an identity never hands out the same value twice.
CREATE TABLE accounts (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL,
    name          text        NOT NULL,
    email         text        NOT NULL,
    role          integer     NOT NULL,
    password_hash text        NOT NULL, -- '' when there is no password sign-in
    oidc_subject  text        NOT NULL, -- '' when there is no single sign-on
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz,
    disabled_at   timestamptz
);
-- Usernames are unique case-insensitively. Under the "C" collation lower()
-- folds ASCII letters only, as SQLite's NOCASE does, so both stores agree
-- on which usernames collide whatever the database's locale.
CREATE UNIQUE INDEX accounts_username ON accounts (lower(username COLLATE "C"));
-- AccountBySubject; one account per identity-provider subject.
CREATE UNIQUE INDEX accounts_oidc_subject ON accounts (oidc_subject) WHERE oidc_subject <> '';

-- Personal API tokens, by the SHA-256 of the token.
CREATE TABLE api_tokens (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint      NOT NULL REFERENCES accounts (id),
    name         text        NOT NULL,
    hash         bytea       NOT NULL,
    hint         text        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    expires_at   timestamptz           -- NULL: never
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (hash);
CREATE INDEX api_tokens_account ON api_tokens (account_id, id);

-- Signed-in browsers, by the SHA-256 of the cookie's value.
CREATE TABLE sessions (
    hash       bytea       PRIMARY KEY,
    account_id bigint      NOT NULL REFERENCES accounts (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
-- DeleteSessions sweeps the expired ones; DeleteAccountSessions signs an
-- account out everywhere.
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_account ON sessions (account_id);

-- Who each escalation step called: the on-call load Insights counts.
CREATE TABLE page_records (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL,
    person   text        NOT NULL,
    group_id bigint      NOT NULL REFERENCES alert_groups (id),
    level    integer     NOT NULL,
    channel  text        NOT NULL
);
CREATE INDEX page_records_at ON page_records (at, id);

-- The alert list's filters. The B-tree ones keep the ID so a filtered page
-- reads the index newest first and stops at the limit; first_seen serves
-- time ranges and Insights' AlertFacts; the GIN index answers label
-- equality (labels @> '{"k": "v"}') when the label is rare.
CREATE INDEX alerts_level ON alerts (level, id);
CREATE INDEX alerts_first_seen ON alerts (first_seen);
CREATE INDEX alerts_labels ON alerts USING gin (labels jsonb_path_ops);
