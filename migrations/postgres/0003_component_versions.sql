-- The component registry: every version of every component deployed, and which one serves.
-- Replicas sharing this database load the active versions and follow changes through
-- NOTIFY on the channel `joule_component_versions`.
CREATE TABLE component_versions (
    application  TEXT        NOT NULL,
    component    TEXT        NOT NULL,
    version      INTEGER     NOT NULL CHECK (version > 0),
    sha256       TEXT        NOT NULL,
    wasm         BYTEA       NOT NULL,
    deployed_by  TEXT        NOT NULL,
    deployed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    active       BOOLEAN     NOT NULL DEFAULT false,
    -- When it last became active: a rollback without a version goes to the latest before.
    activated_at TIMESTAMPTZ,
    PRIMARY KEY (application, component, version)
);

CREATE UNIQUE INDEX component_versions_one_active ON component_versions (application, component) WHERE active;
