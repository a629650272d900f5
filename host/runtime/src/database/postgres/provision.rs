//! Creating the platform schema, and each component's schema and role.
//!
//! Replicas starting at once run this concurrently; an advisory lock makes them take turns.
//! A component's schema and role are claimed for its application first (`owners`), so a
//! clash is refused before anything of the owner changes.

use std::collections::BTreeSet;

use sqlx::postgres::PgPool;

use super::names::Names;
use super::owners;

/// The advisory lock key for provisioning ("joule" in ASCII).
const PROVISION_LOCK: i64 = 0x6a6f_756c_65;

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub(super) async fn platform(admin: &PgPool) -> anyhow::Result<()> {
    let mut transaction = admin.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PROVISION_LOCK).execute(&mut *transaction).await?;
    let schema = quote_identifier(super::PLATFORM_SCHEMA);
    for statement in [format!("CREATE SCHEMA IF NOT EXISTS {schema}"), format!("REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")] {
        sqlx::query(&statement).execute(&mut *transaction).await?;
    }
    transaction.commit().await?;
    // The admin pool's search_path is the platform schema, so the migration history lands there.
    sqlx::migrate!("../../migrations/postgres").run(admin).await?;
    Ok(())
}

/// Creates (or repairs) the component's role and schema. The role may log in, owns its
/// schema, and holds no other membership or attribute that could reach further.
pub(super) async fn component(
    admin: &PgPool,
    database: &str,
    application: &str,
    names: &Names,
    password: Option<&str>,
    publishes: &BTreeSet<String>,
) -> anyhow::Result<()> {
    let role = quote_identifier(&names.role);
    let schema = quote_identifier(&names.schema);
    let database = quote_identifier(database);
    let role_literal = quote_literal(&names.role);
    let password = password.map_or("NULL".to_string(), quote_literal);
    let statements = [
        format!(
            r#"DO $$
            DECLARE
                granted name;
            BEGIN
                IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {role_literal}) THEN
                    CREATE ROLE {role} LOGIN;
                END IF;
                -- Only a superuser may change these, so they are altered only when set: a
                -- database owner with CREATEROLE provisions too.
                IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {role_literal}
                           AND (rolsuper OR rolreplication OR rolbypassrls)) THEN
                    ALTER ROLE {role} NOSUPERUSER NOREPLICATION NOBYPASSRLS;
                END IF;
                FOR granted IN
                    SELECT g.rolname FROM pg_catalog.pg_auth_members m
                    JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                    JOIN pg_catalog.pg_roles r ON r.oid = m.member
                    WHERE r.rolname = {role_literal}
                LOOP
                    EXECUTE format('REVOKE %I FROM %I', granted, {role_literal});
                END LOOP;
                -- A platform role that is not a superuser gives the schema to the component's
                -- role, and cancels its statements at their deadline, as a member of that role.
                IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
                    AND NOT pg_catalog.pg_has_role(current_user, {role_literal}, 'USAGE') THEN
                    EXECUTE format('GRANT %I TO %I', {role_literal}, current_user);
                END IF;
            END
            $$"#
        ),
        format!(
            "ALTER ROLE {role} WITH LOGIN NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {password}"
        ),
        format!("CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role}"),
        format!("ALTER SCHEMA {schema} OWNER TO {role}"),
        format!("REVOKE ALL ON SCHEMA {schema} FROM PUBLIC"),
        format!("GRANT CONNECT ON DATABASE {database} TO {role}"),
        format!("ALTER ROLE {role} IN DATABASE {database} SET search_path = {schema}"),
        // The outbox and inbox, through the platform's functions only; `publish`, one event at
        // a time, still serves replicas of an earlier release during a rolling upgrade.
        format!("GRANT USAGE ON SCHEMA joule_api TO {role}"),
        format!("GRANT EXECUTE ON FUNCTION joule_api.publish(TEXT, TEXT, JSONB, TIMESTAMPTZ, TEXT, TEXT) TO {role}"),
        format!(
            "GRANT EXECUTE ON FUNCTION joule_api.publish_all(TEXT[], TEXT[], JSONB[], TIMESTAMPTZ[], TEXT[], TEXT[]) \
             TO {role}"
        ),
        format!(
            "GRANT EXECUTE ON FUNCTION joule_api.publish_all(TEXT[], TEXT[], JSONB[], TIMESTAMPTZ[], TEXT[], TEXT[], TEXT[]) \
             TO {role}"
        ),
        format!("GRANT EXECUTE ON FUNCTION joule_api.record_delivery(TEXT) TO {role}"),
        format!(
            "GRANT EXECUTE ON FUNCTION joule_api.schedule_timer(TEXT, TEXT, TEXT, JSONB, TIMESTAMPTZ, TEXT, TEXT) TO {role}"
        ),
        format!(
            "GRANT EXECUTE ON FUNCTION joule_api.schedule_timer(TEXT, TEXT, TEXT, JSONB, TIMESTAMPTZ, TEXT, TEXT, TEXT) TO {role}"
        ),
        format!("GRANT EXECUTE ON FUNCTION joule_api.cancel_timer(TEXT) TO {role}"),
        format!("GRANT EXECUTE ON FUNCTION joule_api.reset_session() TO {role}"),
    ];
    let mut transaction = admin.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PROVISION_LOCK).execute(&mut *transaction).await?;
    owners::claim(&mut transaction, application, names).await?;
    for statement in &statements {
        sqlx::query(statement).execute(&mut *transaction).await?;
    }
    sqlx::query("DELETE FROM event_grants WHERE role_name = $1").bind(&names.role).execute(&mut *transaction).await?;
    sqlx::query("INSERT INTO event_grants (role_name, event_type) SELECT $1, unnest($2::TEXT[])")
        .bind(&names.role)
        .bind(publishes.iter().collect::<Vec<_>>())
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
