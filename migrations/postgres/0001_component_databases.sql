-- The platform's own tables live in the `joule` schema, which no component role can use.
-- Which schema and role each component was given.
CREATE TABLE component_databases (
    component      TEXT PRIMARY KEY,
    schema_name    TEXT        NOT NULL,
    role_name      TEXT        NOT NULL,
    provisioned_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
