-- Timers inside each component's own SQLite file, so they commit atomically with the
-- component's SQL; see the Postgres migration for what each column means. The firing loop
-- checks every row against the component's grant before it delivers one.
CREATE TABLE IF NOT EXISTS _joule_timers (
    id             TEXT    PRIMARY KEY,
    key            TEXT,
    schedule       TEXT,
    event_type     TEXT    NOT NULL,
    data           TEXT    NOT NULL,
    due_at         TEXT    NOT NULL,
    fire_at        TEXT    NOT NULL,
    correlation_id TEXT,
    traceparent    TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS _joule_timers_fire_at ON _joule_timers (fire_at);
CREATE UNIQUE INDEX IF NOT EXISTS _joule_timers_key ON _joule_timers (key) WHERE key IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS _joule_timers_schedule ON _joule_timers (schedule) WHERE schedule IS NOT NULL;

CREATE TABLE IF NOT EXISTS _joule_dead_timers (
    id             TEXT    PRIMARY KEY,
    key            TEXT,
    schedule       TEXT,
    event_type     TEXT    NOT NULL,
    data           TEXT    NOT NULL,
    due_at         TEXT    NOT NULL,
    correlation_id TEXT,
    traceparent    TEXT,
    attempts       INTEGER NOT NULL,
    error          TEXT    NOT NULL,
    died_at        TEXT    NOT NULL
) WITHOUT ROWID;
