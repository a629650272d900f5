-- Postgres dialect, kept to the subset the embedded SQLite backend also runs. Money and
-- energy are exact decimal text: SQLite would turn a NUMERIC column into binary floats.

-- Facts, kept from events: each is upserted by its id, so a replay changes nothing.
CREATE TABLE stations (
    id         UUID PRIMARY KEY,
    name       TEXT        NOT NULL,
    time_zone  TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id                UUID PRIMARY KEY,
    station_id        UUID        NOT NULL,
    connector_id      TEXT        NOT NULL,
    -- The station's zone as the session's events carried it.
    time_zone         TEXT        NOT NULL,
    started_at        TIMESTAMPTZ NOT NULL,
    -- Set by the completion: charging ended, unplugged, energy and its periods.
    charging_ended_at TIMESTAMPTZ,
    unplugged_at      TIMESTAMPTZ,
    energy_wh         BIGINT,
    periods           JSONB,
    -- The last instant the session accounts for, so a day's sessions are found by range.
    ends_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_by_time ON sessions (started_at, ends_at);
CREATE INDEX sessions_by_station ON sessions (station_id);

CREATE TABLE invoices (
    id             UUID PRIMARY KEY,
    -- charging (session_id) or parking (stay_id, lot_id)
    kind           TEXT        NOT NULL,
    session_id     UUID,
    stay_id        UUID,
    lot_id         UUID,
    currency       TEXT        NOT NULL,
    total_excl_vat TEXT        NOT NULL,
    total_incl_vat TEXT,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX invoices_by_time ON invoices (created_at);
CREATE INDEX invoices_by_session ON invoices (session_id);

CREATE TABLE payments (
    invoice_id UUID        NOT NULL,
    reference  TEXT        NOT NULL,
    amount     TEXT        NOT NULL,
    currency   TEXT        NOT NULL,
    paid_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (invoice_id, reference)
);
CREATE INDEX payments_by_time ON payments (paid_at);

-- Days whose figures may have changed since they were rolled up: a report computes them
-- from the facts until the next roll-up. Every fact marks the days it may touch, at any
-- station; `version` moves on each mark, so a roll-up clears only what it has seen.
CREATE TABLE dirty_days (
    day     DATE   PRIMARY KEY,
    version BIGINT NOT NULL
);

-- The roll-up: each station's figures per local day, written whole for a day.
CREATE TABLE daily_usage (
    day          DATE   NOT NULL,
    station_id   UUID   NOT NULL,
    connector_id TEXT   NOT NULL,
    sessions     BIGINT NOT NULL,
    charging_us  BIGINT NOT NULL,
    occupied_us  BIGINT NOT NULL,
    day_us       BIGINT NOT NULL,
    PRIMARY KEY (day, station_id, connector_id)
);

CREATE TABLE daily_energy (
    day        DATE NOT NULL,
    station_id UUID NOT NULL,
    energy_wh  TEXT NOT NULL,
    PRIMARY KEY (day, station_id)
);

-- station_key is the station's id, or '' for what has no station (parking invoices).
CREATE TABLE daily_revenue (
    day               DATE   NOT NULL,
    station_key       TEXT   NOT NULL,
    currency          TEXT   NOT NULL,
    invoices          BIGINT NOT NULL,
    invoiced_excl_vat TEXT   NOT NULL,
    invoiced_incl_vat TEXT   NOT NULL,
    paid              TEXT   NOT NULL,
    PRIMARY KEY (day, station_key, currency)
);

-- Each roll-up that ran, for operators to see how far it got.
CREATE TABLE rollups (
    ran_at      TIMESTAMPTZ PRIMARY KEY,
    through_day DATE        NOT NULL,
    days        BIGINT      NOT NULL,
    left_dirty  BIGINT      NOT NULL
);
