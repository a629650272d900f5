-- The embedded key-value store. Each component has its own key space; the host
-- supplies `space`, so a component can only ever name keys inside its own.
CREATE TABLE kv_entries (
    space      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    -- Unix time in milliseconds; NULL never expires.
    expires_at INTEGER,
    PRIMARY KEY (space, key)
) WITHOUT ROWID;

CREATE INDEX kv_entries_expiry ON kv_entries (expires_at) WHERE expires_at IS NOT NULL;
