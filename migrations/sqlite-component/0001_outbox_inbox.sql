-- The platform's tables inside each component's own SQLite file, so events and inbox
-- entries commit atomically with the component's SQL. The relay checks every outbox row
-- against the component's grants before it publishes, and sets its source itself.
CREATE TABLE IF NOT EXISTS _joule_outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    type           TEXT NOT NULL,
    data           TEXT NOT NULL,
    time           TEXT NOT NULL,
    correlation_id TEXT,
    traceparent    TEXT
);

CREATE TABLE IF NOT EXISTS _joule_inbox (
    event_id    TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
) WITHOUT ROWID;
