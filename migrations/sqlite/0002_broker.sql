-- The embedded broker: durable queues with the same retry and dead-letter rules as RabbitMQ.

-- Which event types (topic patterns) each queue receives.
CREATE TABLE broker_bindings (
    queue   TEXT NOT NULL,
    pattern TEXT NOT NULL,
    PRIMARY KEY (queue, pattern)
) WITHOUT ROWID;

CREATE TABLE broker_messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    queue        TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    -- The delivery this will be: 1, then counting retries.
    attempt      INTEGER NOT NULL DEFAULT 1,
    -- Unix milliseconds: a retry waits until then.
    available_at INTEGER NOT NULL,
    -- Unix milliseconds: taken by a consumer until then.
    leased_until INTEGER,
    -- Why a message was dead-lettered.
    reason       TEXT
);

CREATE INDEX broker_messages_ready ON broker_messages (queue, available_at, id);
