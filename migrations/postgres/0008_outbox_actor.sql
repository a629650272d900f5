-- The subject on whose behalf each event was published, relayed as the CloudEvents `actor`
-- extension. publish_all takes it as a seventh array; the six-array form stays for replicas
-- of an earlier release during a rolling upgrade, and publishes without an actor.
ALTER TABLE outbox ADD COLUMN actor TEXT;

CREATE FUNCTION joule_api.publish_all(
    p_ids TEXT[], p_types TEXT[], p_data JSONB[], p_times TIMESTAMPTZ[], p_correlation_ids TEXT[], p_traceparents TEXT[],
    p_actors TEXT[]
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
    INSERT INTO joule.outbox (id, source, type, data, time, correlation_id, traceparent, actor)
    SELECT e.id, publisher, e.type, e.data, e.time, e.correlation_id, e.traceparent, e.actor
    FROM unnest(p_ids, p_types, p_data, p_times, p_correlation_ids, p_traceparents, p_actors) WITH ORDINALITY
        AS e (id, type, data, time, correlation_id, traceparent, actor, position)
    ORDER BY e.position
    ON CONFLICT (id) DO NOTHING;
    PERFORM pg_notify('joule_outbox', publisher);
END
$$;

REVOKE ALL ON FUNCTION joule_api.publish_all(TEXT[], TEXT[], JSONB[], TIMESTAMPTZ[], TEXT[], TEXT[], TEXT[]) FROM PUBLIC;
