-- The subject on whose behalf a timer was scheduled, delivered as its event's `actor`.
-- schedule_timer takes it as an eighth argument; the seven-argument form stays for replicas
-- of an earlier release during a rolling upgrade, and schedules without an actor.
ALTER TABLE timers ADD COLUMN actor TEXT;
ALTER TABLE dead_timers ADD COLUMN actor TEXT;

CREATE FUNCTION joule_api.schedule_timer(
    p_id TEXT, p_key TEXT, p_type TEXT, p_data JSONB, p_due TIMESTAMPTZ, p_correlation_id TEXT, p_traceparent TEXT,
    p_actor TEXT
) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner TEXT := joule_api.calling_component();
BEGIN
    IF p_key IS NULL THEN
        INSERT INTO joule.timers (id, component, event_type, data, due_at, fire_at, correlation_id, traceparent, actor)
        VALUES (p_id, owner, p_type, p_data, p_due, p_due, p_correlation_id, p_traceparent, p_actor);
    ELSE
        INSERT INTO joule.timers (id, component, key, event_type, data, due_at, fire_at, correlation_id, traceparent, actor)
        VALUES (p_id, owner, p_key, p_type, p_data, p_due, p_due, p_correlation_id, p_traceparent, p_actor)
        ON CONFLICT (component, key) WHERE key IS NOT NULL DO UPDATE SET
            id = EXCLUDED.id, event_type = EXCLUDED.event_type, data = EXCLUDED.data,
            due_at = EXCLUDED.due_at, fire_at = EXCLUDED.fire_at, correlation_id = EXCLUDED.correlation_id,
            traceparent = EXCLUDED.traceparent, actor = EXCLUDED.actor, attempts = 0, last_error = NULL;
    END IF;
    PERFORM pg_notify('joule_timers', owner);
END
$$;

REVOKE ALL ON FUNCTION joule_api.schedule_timer(TEXT, TEXT, TEXT, JSONB, TIMESTAMPTZ, TEXT, TEXT, TEXT) FROM PUBLIC;
