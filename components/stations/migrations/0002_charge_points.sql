-- The OCPP charge point that speaks for a station. Postgres dialect, kept to the subset the
-- embedded SQLite backend also runs.
CREATE TABLE charge_points (
    station_id       UUID PRIMARY KEY REFERENCES stations (id) ON DELETE CASCADE,
    -- The identity it connects with; one station per charge point.
    charge_point_id  TEXT NOT NULL UNIQUE,
    -- 'ocpp1.6' or 'ocpp2.0.1'; NULL admits either.
    protocol         TEXT NULL,
    -- An Argon2id PHC string; NULL until an operator sets a password, and no connection before.
    password_hash    TEXT NULL,
    -- What it said of itself at its last BootNotification.
    vendor           TEXT,
    model            TEXT,
    serial_number    TEXT,
    firmware_version TEXT,
    last_boot_at     TIMESTAMPTZ,
    last_seen_at     TIMESTAMPTZ
);

-- The status the charge point last reported, in its OCPP version's words (NULL until then);
-- `status` keeps the platform's status derived from it.
ALTER TABLE connectors ADD COLUMN ocpp_status TEXT;
