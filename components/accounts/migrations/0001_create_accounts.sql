-- Postgres dialect, kept to the subset the embedded SQLite backend also runs.
-- A person is the subject of their token: there are no passwords here.
CREATE TABLE accounts (
    subject        TEXT PRIMARY KEY,
    -- Time-ordered, so listing by id lists accounts in the order they were first used.
    id             UUID        NOT NULL UNIQUE,
    display_name   TEXT,
    email          TEXT,
    phone          TEXT,
    locale         TEXT,
    notify_email   BOOLEAN     NOT NULL,
    notify_webhook BOOLEAN     NOT NULL,
    notify_log     BOOLEAN     NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE vehicles (
    id              UUID PRIMARY KEY,
    subject         TEXT        NOT NULL REFERENCES accounts (subject),
    make            TEXT        NOT NULL,
    model           TEXT        NOT NULL,
    -- Normalised: upper case, without spaces or hyphens, so one plate is one value.
    regnum          TEXT        NOT NULL,
    -- The connector types, as a JSON array of strings.
    connector_types TEXT        NOT NULL,
    battery_kwh     DOUBLE PRECISION,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (subject, regnum)
);

-- A uid (upper case) belongs to one account across the platform, as a charge point sees it.
CREATE TABLE tokens (
    uid        TEXT PRIMARY KEY,
    subject    TEXT        NOT NULL REFERENCES accounts (subject),
    type       TEXT        NOT NULL,
    -- ACTIVE or BLOCKED; EXPIRED is not stored but read from expires_at.
    status     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX tokens_by_subject ON tokens (subject, created_at);
