-- One row per CALL handled to a commit: a CALL answered with a CALLERROR, or whose guest
-- trapped, leaves none. `id` is a time-ordered UUID, so rows list in the order inserted.
CREATE TABLE calls (
    id              TEXT PRIMARY KEY,
    charge_point_id TEXT NOT NULL,
    protocol        TEXT NOT NULL,
    action          TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    caller_subject  TEXT,
    caller_roles    TEXT
);
