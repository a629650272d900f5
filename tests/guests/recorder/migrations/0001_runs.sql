-- One row per time the handler ran to a commit, so exactly-once shows as one row per event.
CREATE TABLE runs (
    event_id       TEXT    NOT NULL,
    event_type     TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    attempt        INTEGER NOT NULL,
    correlation_id TEXT,
    traceparent    TEXT
);
