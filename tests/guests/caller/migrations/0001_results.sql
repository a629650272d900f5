-- The outcome of each call, as its result event brought it; one row per request.
CREATE TABLE results (
    request_id TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    received   INTEGER NOT NULL,
    -- When the handler first took it, in microseconds since the Unix epoch (the benchmark's
    -- round trips end here).
    handled_us BIGINT NOT NULL
);
