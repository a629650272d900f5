-- Timers that commit with the unit of work that scheduled them, and fall due as events
-- delivered to the same component. `fire_at` orders the work: the due time at first, the end
-- of a replica's claim while one delivers it, the next try after a failure. A schedule's
-- tick is a timer too, one row per `[[trigger.schedule]]`, named by `schedule`.
CREATE TABLE timers (
    id             TEXT        PRIMARY KEY,
    component      TEXT        NOT NULL,
    key            TEXT,
    schedule       TEXT,
    event_type     TEXT        NOT NULL,
    data           JSONB       NOT NULL,
    due_at         TIMESTAMPTZ NOT NULL,
    fire_at        TIMESTAMPTZ NOT NULL,
    correlation_id TEXT,
    traceparent    TEXT,
    -- Deliveries that failed so far, and why the last one did.
    attempts       INTEGER     NOT NULL DEFAULT 0,
    last_error     TEXT,
    CHECK (key IS NULL OR schedule IS NULL)
);
CREATE INDEX timers_fire_at ON timers (fire_at);
CREATE UNIQUE INDEX timers_key ON timers (component, key) WHERE key IS NOT NULL;
CREATE UNIQUE INDEX timers_schedule ON timers (component, schedule) WHERE schedule IS NOT NULL;

-- Timers whose last attempt failed, kept for operators to inspect.
CREATE TABLE dead_timers (
    id             TEXT        PRIMARY KEY,
    component      TEXT        NOT NULL,
    key            TEXT,
    schedule       TEXT,
    event_type     TEXT        NOT NULL,
    data           JSONB       NOT NULL,
    due_at         TIMESTAMPTZ NOT NULL,
    correlation_id TEXT,
    traceparent    TEXT,
    attempts       INTEGER     NOT NULL,
    error          TEXT        NOT NULL,
    died_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX dead_timers_died_at ON dead_timers (died_at);

-- A component schedules and cancels only its own timers: the functions take the component
-- from the session's login role, as publishing does. A key replaces the earlier timer.
CREATE FUNCTION joule_api.schedule_timer(
    p_id TEXT, p_key TEXT, p_type TEXT, p_data JSONB, p_due TIMESTAMPTZ, p_correlation_id TEXT, p_traceparent TEXT
) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner TEXT := joule_api.calling_component();
BEGIN
    IF p_key IS NULL THEN
        INSERT INTO joule.timers (id, component, event_type, data, due_at, fire_at, correlation_id, traceparent)
        VALUES (p_id, owner, p_type, p_data, p_due, p_due, p_correlation_id, p_traceparent);
    ELSE
        INSERT INTO joule.timers (id, component, key, event_type, data, due_at, fire_at, correlation_id, traceparent)
        VALUES (p_id, owner, p_key, p_type, p_data, p_due, p_due, p_correlation_id, p_traceparent)
        ON CONFLICT (component, key) WHERE key IS NOT NULL DO UPDATE SET
            id = EXCLUDED.id, event_type = EXCLUDED.event_type, data = EXCLUDED.data,
            due_at = EXCLUDED.due_at, fire_at = EXCLUDED.fire_at, correlation_id = EXCLUDED.correlation_id,
            traceparent = EXCLUDED.traceparent, attempts = 0, last_error = NULL;
    END IF;
    -- Delivered at commit, so firing loops wake only for committed timers.
    PERFORM pg_notify('joule_timers', owner);
END
$$;

CREATE FUNCTION joule_api.cancel_timer(p_key TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM joule.timers WHERE component = joule_api.calling_component() AND key = p_key;
    RETURN FOUND;
END
$$;

REVOKE ALL ON FUNCTION joule_api.schedule_timer(TEXT, TEXT, TEXT, JSONB, TIMESTAMPTZ, TEXT, TEXT) FROM PUBLIC;
REVOKE ALL ON FUNCTION joule_api.cancel_timer(TEXT) FROM PUBLIC;
