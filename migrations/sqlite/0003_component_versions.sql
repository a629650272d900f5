-- The component registry: every version of every component deployed, and which one serves.
CREATE TABLE component_versions (
    application  TEXT    NOT NULL,
    component    TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version > 0),
    sha256       TEXT    NOT NULL,
    wasm         BLOB    NOT NULL,
    deployed_by  TEXT    NOT NULL,
    -- Unix milliseconds.
    deployed_at  INTEGER NOT NULL,
    active       INTEGER NOT NULL DEFAULT 0,
    -- Unix milliseconds: when it last became active.
    activated_at INTEGER,
    PRIMARY KEY (application, component, version)
) WITHOUT ROWID;

CREATE UNIQUE INDEX component_versions_one_active ON component_versions (application, component) WHERE active;
