-- Parking stays are invoiced too: an invoice is for a charging session or for a stay, and a
-- stay of a plate no account has goes to the lot's default account (or none), marked
-- unassigned. SQLite cannot drop a NOT NULL, so the table is made again.
CREATE TABLE invoices_v2 (
    id                UUID PRIMARY KEY,
    -- charging (session_id) or parking (stay_id, lot_id, regnum)
    kind              TEXT        NOT NULL,
    session_id        UUID        UNIQUE,
    stay_id           UUID        UNIQUE,
    lot_id            UUID,
    regnum            TEXT,
    unassigned        BOOLEAN     NOT NULL,
    driver_id         TEXT,
    currency          TEXT        NOT NULL,
    lines             JSONB       NOT NULL,
    total_excl_vat    TEXT        NOT NULL,
    total_incl_vat    TEXT,
    status            TEXT        NOT NULL,
    tariff_id         TEXT        NOT NULL,
    tariff_version    INTEGER     NOT NULL,
    rule              TEXT        NOT NULL,
    rule_version      INTEGER     NOT NULL,
    payment_reference TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    paid_at           TIMESTAMPTZ
);

INSERT INTO invoices_v2 (id, kind, session_id, unassigned, driver_id, currency, lines, total_excl_vat,
                         total_incl_vat, status, tariff_id, tariff_version, rule, rule_version,
                         payment_reference, created_at, paid_at)
SELECT id, 'charging', session_id, FALSE, driver_id, currency, lines, total_excl_vat, total_incl_vat, status,
       tariff_id, tariff_version, rule, rule_version, payment_reference, created_at, paid_at
FROM invoices;

DROP TABLE invoices;
ALTER TABLE invoices_v2 RENAME TO invoices;
CREATE INDEX invoices_by_driver ON invoices (driver_id, id);

-- Whose plate is whose, kept from the accounts' vehicle events. A plate is unique within an
-- account only, so two accounts may both have it.
CREATE TABLE vehicles (
    vehicle_id UUID PRIMARY KEY,
    subject    TEXT NOT NULL,
    regnum     TEXT NOT NULL
);
CREATE INDEX vehicles_by_regnum ON vehicles (regnum);
