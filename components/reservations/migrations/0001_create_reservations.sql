-- This component's own copy of stations, connectors and tariff versions, kept from their
-- events: it never reads another component's schema.
CREATE TABLE stations (
    id         UUID PRIMARY KEY,
    time_zone  TEXT        NOT NULL,
    tariff_id  TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE connectors (
    station_id UUID   NOT NULL,
    connector_id TEXT NOT NULL,
    status     TEXT   NOT NULL,
    -- Bumped by every booking and session start, so those of one connector take turns.
    turns      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, connector_id)
);

CREATE TABLE tariffs (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    rule    TEXT    NOT NULL
);

CREATE TABLE reservations (
    id           UUID PRIMARY KEY,
    station_id   UUID        NOT NULL,
    connector_id TEXT        NOT NULL,
    driver_id    TEXT        NOT NULL,
    starts_at    TIMESTAMPTZ NOT NULL,
    ends_at      TIMESTAMPTZ NOT NULL,
    -- confirmed, cancelled, fulfilled or no_show
    status       TEXT        NOT NULL,
    session_id   UUID,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX reservations_by_connector ON reservations (station_id, connector_id, starts_at);
CREATE INDEX reservations_by_driver ON reservations (driver_id, id);
-- The no-show sweep reads only bookings still waiting for their session.
CREATE INDEX reservations_waiting ON reservations (ends_at) WHERE status = 'confirmed';

CREATE TABLE sessions (
    id             UUID PRIMARY KEY,
    station_id     UUID        NOT NULL,
    connector_id   TEXT        NOT NULL,
    driver_id      TEXT        NOT NULL,
    reservation_id UUID,
    -- active or completed
    status         TEXT        NOT NULL,
    meter_start_wh BIGINT      NOT NULL,
    meter_stop_wh  BIGINT,
    started_at     TIMESTAMPTZ NOT NULL,
    stopped_at     TIMESTAMPTZ,
    unplugged_at   TIMESTAMPTZ,
    time_zone      TEXT        NOT NULL,
    -- The tariff and pricing rule in force at the start, so the price is pinned to them.
    tariff_id      TEXT,
    tariff_version INTEGER,
    rule           TEXT,
    rule_version   INTEGER
);

CREATE INDEX sessions_by_connector ON sessions (station_id, connector_id, status);

CREATE TABLE meter_values (
    session_id UUID        NOT NULL,
    taken_at   TIMESTAMPTZ NOT NULL,
    energy_wh  BIGINT      NOT NULL,
    PRIMARY KEY (session_id, taken_at)
);
