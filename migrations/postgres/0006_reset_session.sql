-- Undoes whatever a component's session can keep beyond a transaction, before its connection
-- serves another invocation: settings (back to the values the connection was opened with),
-- session advisory locks, holdable cursors, listeners, temporary tables, sequence state and
-- statements prepared with SQL's PREPARE. Statements prepared through the protocol (sqlx's
-- cache) stay, and so does the login role. One call, compiled once per session, costs less
-- than these as separate statements, and DISCARD ALL would drop sqlx's statements too.
--
-- It runs as the component (SECURITY INVOKER), on its own session only. It has no SET clause,
-- which would restore the caller's settings on return, undoing RESET ALL; every name is
-- qualified instead, since the caller's search_path is the component's until reset.
CREATE FUNCTION joule_api.reset_session() RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    prepared TEXT;
BEGIN
    RESET ALL;
    PERFORM pg_catalog.pg_advisory_unlock_all();
    EXECUTE 'CLOSE ALL';
    UNLISTEN *;
    DISCARD TEMP;
    DISCARD SEQUENCES;
    FOR prepared IN SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql LOOP
        EXECUTE pg_catalog.format('DEALLOCATE %I', prepared);
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION joule_api.reset_session() FROM PUBLIC;
