-- Postgres dialect, kept to the subset the embedded SQLite backend also runs.
-- A lot is defined once: its settings and slots never change, only who occupies a slot.
CREATE TABLE lots (
    -- Time-ordered, so listing by id lists lots in the order they were created.
    id              UUID PRIMARY KEY,
    name            TEXT        NOT NULL,
    time_zone       TEXT        NOT NULL,
    tariff_id       TEXT,
    free_minutes    INTEGER     NOT NULL,
    -- The subject billed for stays of plates no driver has registered.
    default_account TEXT,
    -- The levels in the order their first slot was listed, as a JSON array of strings.
    levels          TEXT        NOT NULL,
    total_slots     INTEGER     NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE slots (
    lot_id       UUID    NOT NULL REFERENCES lots (id),
    slot_id      TEXT    NOT NULL,
    -- The slot's place in the lot's definition, which breaks ties when slots are assigned.
    position     INTEGER NOT NULL,
    level        TEXT    NOT NULL,
    -- 'EV' or 'ICE'; 'CAR', 'VAN' or 'MOTORBIKE'.
    kind         TEXT    NOT NULL,
    size         TEXT    NOT NULL,
    -- The charging connector at the slot, if any.
    station_id   TEXT,
    connector_id TEXT,
    -- The stay occupying the slot: all NULL while it is free. The plate is normalised.
    stay_id      UUID,
    regnum       TEXT,
    vehicle_kind TEXT,
    vehicle_size TEXT,
    parked_at    TIMESTAMPTZ,
    PRIMARY KEY (lot_id, slot_id)
);

-- A plate occupies at most one slot of a lot.
CREATE UNIQUE INDEX slots_one_per_plate ON slots (lot_id, regnum) WHERE regnum IS NOT NULL;

-- Stays that have ended: the lot's history.
CREATE TABLE stays (
    id               UUID PRIMARY KEY,
    lot_id           UUID        NOT NULL REFERENCES lots (id),
    slot_id          TEXT        NOT NULL,
    level            TEXT        NOT NULL,
    regnum           TEXT        NOT NULL,
    kind             TEXT        NOT NULL,
    size             TEXT        NOT NULL,
    parked_at        TIMESTAMPTZ NOT NULL,
    left_at          TIMESTAMPTZ NOT NULL,
    duration_seconds BIGINT      NOT NULL
);

CREATE INDEX stays_by_lot ON stays (lot_id, left_at);
