-- Events written inside a unit of work, waiting for the relay.
CREATE TABLE outbox (
    seq            BIGSERIAL   PRIMARY KEY,
    id             TEXT        NOT NULL UNIQUE,
    source         TEXT        NOT NULL,
    type           TEXT        NOT NULL,
    data           JSONB       NOT NULL,
    time           TIMESTAMPTZ NOT NULL,
    correlation_id TEXT,
    traceparent    TEXT,
    -- A relay has taken the row until then; afterwards another may.
    claimed_until  TIMESTAMPTZ
);

-- The events each consumer has handled, so a redelivery does not run again.
CREATE TABLE inbox (
    consumer    TEXT        NOT NULL,
    event_id    TEXT        NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- The event types each component may publish, from the manifest.
CREATE TABLE event_grants (
    component  TEXT NOT NULL,
    event_type TEXT NOT NULL,
    PRIMARY KEY (component, event_type)
);

-- Components reach the tables above only through these functions, which run as the
-- platform and take the component from the session's login role, so nothing can be forged.
CREATE SCHEMA joule_api;
REVOKE ALL ON SCHEMA joule_api FROM PUBLIC;

CREATE FUNCTION joule_api.calling_component() RETURNS TEXT
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found TEXT;
BEGIN
    SELECT component INTO found FROM joule.component_databases WHERE role_name = session_user;
    IF found IS NULL THEN
        RAISE EXCEPTION 'the role % belongs to no component', session_user USING ERRCODE = '42501';
    END IF;
    RETURN found;
END
$$;

CREATE FUNCTION joule_api.publish(
    p_id TEXT, p_type TEXT, p_data JSONB, p_time TIMESTAMPTZ, p_correlation_id TEXT, p_traceparent TEXT
) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    publisher TEXT := joule_api.calling_component();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM joule.event_grants WHERE component = publisher AND event_type = p_type) THEN
        RAISE EXCEPTION 'component % may not publish %', publisher, p_type USING ERRCODE = '42501';
    END IF;
    INSERT INTO joule.outbox (id, source, type, data, time, correlation_id, traceparent)
    VALUES (p_id, publisher, p_type, p_data, p_time, p_correlation_id, p_traceparent)
    ON CONFLICT (id) DO NOTHING;
    -- Delivered at commit, so relays wake only for committed events.
    PERFORM pg_notify('joule_outbox', publisher);
END
$$;

-- True the first time the calling component records an event; a concurrent duplicate
-- waits for the first to commit and then sees it.
CREATE FUNCTION joule_api.record_delivery(p_event_id TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO joule.inbox (consumer, event_id) VALUES (joule_api.calling_component(), p_event_id)
    ON CONFLICT DO NOTHING;
    RETURN FOUND;
END
$$;

REVOKE ALL ON FUNCTION joule_api.calling_component() FROM PUBLIC;
REVOKE ALL ON FUNCTION joule_api.publish(TEXT, TEXT, JSONB, TIMESTAMPTZ, TEXT, TEXT) FROM PUBLIC;
REVOKE ALL ON FUNCTION joule_api.record_delivery(TEXT) FROM PUBLIC;
