-- A unit of work's events in one call at its commit, in the order they were published:
-- one round trip for all of them instead of one, and a savepoint, per event.
CREATE FUNCTION joule_api.publish_all(
    p_ids TEXT[], p_types TEXT[], p_data JSONB[], p_times TIMESTAMPTZ[], p_correlation_ids TEXT[], p_traceparents TEXT[]
) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    publisher TEXT := joule_api.calling_component();
    ungranted TEXT;
BEGIN
    SELECT t INTO ungranted FROM unnest(p_types) AS t
    WHERE NOT EXISTS (SELECT 1 FROM joule.event_grants g WHERE g.component = publisher AND g.event_type = t)
    LIMIT 1;
    IF ungranted IS NOT NULL THEN
        RAISE EXCEPTION 'component % may not publish %', publisher, ungranted USING ERRCODE = '42501';
    END IF;
    INSERT INTO joule.outbox (id, source, type, data, time, correlation_id, traceparent)
    SELECT e.id, publisher, e.type, e.data, e.time, e.correlation_id, e.traceparent
    FROM unnest(p_ids, p_types, p_data, p_times, p_correlation_ids, p_traceparents) WITH ORDINALITY
        AS e (id, type, data, time, correlation_id, traceparent, position)
    ORDER BY e.position
    ON CONFLICT (id) DO NOTHING;
    -- Delivered at commit, so relays wake only for committed events.
    PERFORM pg_notify('joule_outbox', publisher);
END
$$;

REVOKE ALL ON FUNCTION joule_api.publish_all(TEXT[], TEXT[], JSONB[], TIMESTAMPTZ[], TEXT[], TEXT[]) FROM PUBLIC;
