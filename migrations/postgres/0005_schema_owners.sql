-- Each schema and role belongs to one application's component. Names are derived from
-- `<application>_<component>` with everything but letters and digits turned into `_`, so
-- two applications (or components) can map to the same schema: the platform refuses the
-- second at startup instead of letting it share the first one's data. Rows written before
-- this migration were keyed by the component alone; their application is recorded when it
-- next starts (it adopts the row whose schema and component it derives).
ALTER TABLE component_databases ADD COLUMN application TEXT;

-- Where two components already shared a schema or a role, the latest provisioned keeps the
-- row; the other is refused, naming it, when it next starts.
DELETE FROM component_databases a
USING component_databases b
WHERE (a.schema_name = b.schema_name OR a.role_name = b.role_name)
  AND (a.provisioned_at, a.component) < (b.provisioned_at, b.component);

ALTER TABLE component_databases DROP CONSTRAINT component_databases_pkey;
ALTER TABLE component_databases ADD CONSTRAINT component_databases_schema_key UNIQUE (schema_name);
ALTER TABLE component_databases ADD CONSTRAINT component_databases_role_key UNIQUE (role_name);
CREATE UNIQUE INDEX component_databases_owner ON component_databases (application, component);

-- Event grants and inbox records belong to the role, which names the database, application
-- and component, so applications sharing a database neither overwrite nor see each other's.
ALTER TABLE event_grants ADD COLUMN role_name TEXT;
UPDATE event_grants g SET role_name = d.role_name FROM component_databases d WHERE d.component = g.component;
DELETE FROM event_grants WHERE role_name IS NULL;
ALTER TABLE event_grants DROP CONSTRAINT event_grants_pkey;
ALTER TABLE event_grants DROP COLUMN component;
ALTER TABLE event_grants ALTER COLUMN role_name SET NOT NULL;
ALTER TABLE event_grants ADD PRIMARY KEY (role_name, event_type);

-- The inbox's consumer was the component's name; it becomes the role's.
UPDATE inbox i SET consumer = d.role_name FROM component_databases d WHERE d.component = i.consumer;

CREATE OR REPLACE FUNCTION joule_api.publish(
    p_id TEXT, p_type TEXT, p_data JSONB, p_time TIMESTAMPTZ, p_correlation_id TEXT, p_traceparent TEXT
) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    publisher TEXT := joule_api.calling_component();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM joule.event_grants WHERE role_name = session_user AND event_type = p_type) THEN
        RAISE EXCEPTION 'component % (role %) may not publish %', publisher, session_user, p_type
            USING ERRCODE = '42501';
    END IF;
    INSERT INTO joule.outbox (id, source, type, data, time, correlation_id, traceparent)
    VALUES (p_id, publisher, p_type, p_data, p_time, p_correlation_id, p_traceparent)
    ON CONFLICT (id) DO NOTHING;
    PERFORM pg_notify('joule_outbox', publisher);
END
$$;

CREATE OR REPLACE FUNCTION joule_api.publish_all(
    p_ids TEXT[], p_types TEXT[], p_data JSONB[], p_times TIMESTAMPTZ[], p_correlation_ids TEXT[], p_traceparents TEXT[]
) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    publisher TEXT := joule_api.calling_component();
    ungranted TEXT;
BEGIN
    SELECT t INTO ungranted FROM unnest(p_types) AS t
    WHERE NOT EXISTS (SELECT 1 FROM joule.event_grants g WHERE g.role_name = session_user AND g.event_type = t)
    LIMIT 1;
    IF ungranted IS NOT NULL THEN
        RAISE EXCEPTION 'component % (role %) may not publish %', publisher, session_user, ungranted
            USING ERRCODE = '42501';
    END IF;
    INSERT INTO joule.outbox (id, source, type, data, time, correlation_id, traceparent)
    SELECT e.id, publisher, e.type, e.data, e.time, e.correlation_id, e.traceparent
    FROM unnest(p_ids, p_types, p_data, p_times, p_correlation_ids, p_traceparents) WITH ORDINALITY
        AS e (id, type, data, time, correlation_id, traceparent, position)
    ORDER BY e.position
    ON CONFLICT (id) DO NOTHING;
    PERFORM pg_notify('joule_outbox', publisher);
END
$$;

-- The consumer is the session's role; calling_component() still refuses a role that
-- belongs to no component.
CREATE OR REPLACE FUNCTION joule_api.record_delivery(p_event_id TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM joule_api.calling_component();
    INSERT INTO joule.inbox (consumer, event_id) VALUES (session_user, p_event_id)
    ON CONFLICT DO NOTHING;
    RETURN FOUND;
END
$$;
