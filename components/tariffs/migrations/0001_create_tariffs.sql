-- Every version of every tariff: a version, once written, never changes, so a price can
-- always be repeated with the tariff as it stood.
CREATE TABLE tariffs (
    id         UUID        NOT NULL,
    version    INTEGER     NOT NULL,
    body       JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (id, version)
);
