-- Postgres dialect, kept to the subset the embedded SQLite backend also runs.
CREATE TABLE stations (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    lat        DOUBLE PRECISION NOT NULL,
    lng        DOUBLE PRECISION NOT NULL,
    address    TEXT,
    time_zone  TEXT NOT NULL,
    tariff_id  TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE connectors (
    station_id   UUID NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    connector_id TEXT NOT NULL,
    -- Keeps connectors in the order the client gave them.
    position     INTEGER NOT NULL,
    type         TEXT NOT NULL,
    max_power_kw DOUBLE PRECISION NOT NULL,
    status       TEXT NOT NULL,
    PRIMARY KEY (station_id, connector_id)
);
