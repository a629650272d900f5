-- The outcome of each call, as its result event brought it; one row per request.
CREATE TABLE results (
    request_id TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    received   INTEGER NOT NULL
);
