-- Webhook endpoints operators register: which events each receives, and the secret its
-- deliveries are signed with (Standard Webhooks: HMAC-SHA256).
CREATE TABLE webhook_endpoints (
    id              UUID PRIMARY KEY,
    url             TEXT        NOT NULL,
    -- A JSON array of event-type patterns, as AMQP topics (`*` one word, `#` any words).
    event_types     TEXT        NOT NULL,
    description     TEXT,
    secret          TEXT        NOT NULL,
    enabled         BOOLEAN     NOT NULL,
    -- Deliveries in a row that failed every attempt; too many disables the endpoint.
    failed_in_a_row INTEGER     NOT NULL,
    disabled_reason TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- One event to one endpoint: the body as signed and sent, and how its attempts went.
CREATE TABLE webhook_deliveries (
    id          UUID PRIMARY KEY,
    endpoint_id UUID        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id    TEXT        NOT NULL,
    event_type  TEXT        NOT NULL,
    body        TEXT        NOT NULL,
    -- pending, delivered or failed
    status      TEXT        NOT NULL,
    attempts    INTEGER     NOT NULL,
    last_error  TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);
