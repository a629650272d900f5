-- The OCPP version each charge point last connected with, from the host's connection
-- events; the newest connection (ids are time-ordered) wins.
CREATE TABLE charge_point_protocols (
    charge_point_id TEXT PRIMARY KEY,
    protocol        TEXT NOT NULL,
    connection_id   TEXT NOT NULL
);

-- Starts a driver asked for from the app on an OCPP station: sent to the charge point as
-- RemoteStartTransaction / RequestStartTransaction. The session itself appears when the
-- charge point starts the transaction.
CREATE TABLE remote_starts (
    id           UUID PRIMARY KEY,
    request_id   TEXT        NOT NULL UNIQUE,
    station_id   UUID        NOT NULL,
    connector_id TEXT        NOT NULL,
    driver_id    TEXT        NOT NULL,
    id_tag       TEXT        NOT NULL,
    -- pending (sent), accepted (the charge point agreed), started, rejected or failed
    status       TEXT        NOT NULL,
    reason       TEXT,
    session_id   UUID,
    requested_at TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX remote_starts_waiting ON remote_starts (station_id, connector_id, driver_id, status);

-- A stop asked for over REST of a session a charge point runs: RemoteStopTransaction /
-- RequestStopTransaction, and how the charge point took it.
ALTER TABLE sessions ADD COLUMN stop_request_id TEXT;
ALTER TABLE sessions ADD COLUMN stop_status TEXT;
ALTER TABLE sessions ADD COLUMN stop_reason TEXT;

-- OCPP 2.0.1 remoteStartIds, handed out in order.
INSERT INTO ocpp_counters (name, value) VALUES ('remote_start_id', 0);

-- The OCPP version a station is pinned to, from the stations' events.
ALTER TABLE stations ADD COLUMN ocpp_protocol TEXT;

-- A booking on an OCPP station held at the charge point too: ReserveNow at its start under
-- an integer id (OCPP numbers reservations), CancelReservation when it is cancelled.
ALTER TABLE reservations ADD COLUMN ocpp_reservation_id BIGINT;
ALTER TABLE reservations ADD COLUMN hold_request_id TEXT;
-- pending (ReserveNow sent), accepted, rejected or failed; then cancelling, cancelled
ALTER TABLE reservations ADD COLUMN hold_status TEXT;
ALTER TABLE reservations ADD COLUMN hold_reason TEXT;
CREATE UNIQUE INDEX reservations_ocpp_id ON reservations (ocpp_reservation_id);
INSERT INTO ocpp_counters (name, value) VALUES ('reservation_id', 0);
