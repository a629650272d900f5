-- Every tariff version, kept from tariff events, so a session is priced as it started.
CREATE TABLE tariffs (
    id      TEXT    NOT NULL,
    version INTEGER NOT NULL,
    body    JSONB   NOT NULL,
    PRIMARY KEY (id, version)
);

-- Amounts are exact decimal text: SQLite would turn a NUMERIC column into binary floats.
CREATE TABLE invoices (
    id                UUID PRIMARY KEY,
    session_id        UUID        NOT NULL UNIQUE,
    driver_id         TEXT        NOT NULL,
    currency          TEXT        NOT NULL,
    lines             JSONB       NOT NULL,
    total_excl_vat    TEXT        NOT NULL,
    total_incl_vat    TEXT,
    -- open, or paid
    status            TEXT        NOT NULL,
    tariff_id         TEXT        NOT NULL,
    tariff_version    INTEGER     NOT NULL,
    rule              TEXT        NOT NULL,
    rule_version      INTEGER     NOT NULL,
    payment_reference TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    paid_at           TIMESTAMPTZ
);

CREATE INDEX invoices_by_driver ON invoices (driver_id, id);
