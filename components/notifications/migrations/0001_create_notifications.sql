CREATE TABLE notifications (
    id         UUID PRIMARY KEY,
    recipient  TEXT        NOT NULL,
    channel    TEXT        NOT NULL,
    subject    TEXT        NOT NULL,
    body       TEXT        NOT NULL,
    event_id   TEXT        NOT NULL UNIQUE,
    event_type TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at    TIMESTAMPTZ
);

CREATE INDEX notifications_by_recipient ON notifications (recipient, id);
