-- Sessions that charge points start and stop over OCPP, one session model with REST's.

-- The charge point of each station, from the station events, so a charge point's messages
-- find their station.
ALTER TABLE stations ADD COLUMN charge_point_id TEXT;
CREATE INDEX stations_by_charge_point ON stations (charge_point_id);

-- The accounts' charging tokens, kept from token.* events, so a transaction's idTag names
-- its driver. A revoked token stays, as REVOKED, so a late issued event cannot bring it back.
CREATE TABLE tokens (
    uid        TEXT PRIMARY KEY,
    driver_id  TEXT        NOT NULL,
    -- ACTIVE, BLOCKED, EXPIRED or REVOKED
    status     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ,
    -- The newest event applied, so older ones arriving late change nothing.
    updated_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE sessions ADD COLUMN charge_point_id TEXT;
-- OCPP 1.6: the integer this component gave; 2.0.1: the station's own transactionId.
ALTER TABLE sessions ADD COLUMN transaction_id TEXT;
ALTER TABLE sessions ADD COLUMN id_tag TEXT;
-- Where charging ended and parking began (SuspendedEV, Finishing, chargingState EVConnected).
ALTER TABLE sessions ADD COLUMN charging_ended_at TIMESTAMPTZ;
-- A 2.0.1 transaction whose start carried no energy register takes its first reading.
ALTER TABLE sessions ADD COLUMN meter_start_pending BOOLEAN NOT NULL DEFAULT FALSE;
CREATE UNIQUE INDEX sessions_by_transaction ON sessions (charge_point_id, transaction_id);

-- Power.Active.Import at the reading, in W, where the charge point sent it.
ALTER TABLE meter_values ADD COLUMN power_w BIGINT;

-- OCPP 1.6 transaction ids: one counter, handed out in order.
CREATE TABLE ocpp_counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO ocpp_counters (name, value) VALUES ('transaction_id', 0);
