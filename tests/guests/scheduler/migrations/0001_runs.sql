-- One row per time the handler ran to a commit, so exactly-once shows as one row per event.
-- `event_time` is the event's `time` (a timer's due time, a schedule's tick), and
-- `handled_ms` when the handler ran, in milliseconds since the Unix epoch.
CREATE TABLE runs (
    event_id       TEXT    NOT NULL,
    event_type     TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    attempt        INTEGER NOT NULL,
    event_time     TEXT    NOT NULL,
    data           TEXT    NOT NULL,
    correlation_id TEXT,
    traceparent    TEXT,
    handled_ms     BIGINT  NOT NULL
);
