//! The Postgres database backend against a real Postgres: value mapping, the unit of work,
//! statement timeouts, migrations, and isolation enforced by Postgres itself.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use joule_runtime::database::postgres::{PostgresBackend, PostgresSettings};
use joule_runtime::database::{ComponentDatabase, DatabaseBackend, OpenOptions};
use joule_world::database::{Error, Value};
use support::{counter, soon};

const SCHEMA: &str = "CREATE TABLE kinds (
    small INT2, normal INT4, big INT8, real FLOAT4, double FLOAT8, amount NUMERIC(12, 4), label TEXT,
    flag BOOLEAN, at TIMESTAMPTZ, day DATE, doc JSONB, id UUID, blob BYTEA, span INTERVAL);
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters VALUES ('a', 0);";

struct Setup {
    url: String,
    _migrations: tempfile::TempDir,
    backend: PostgresBackend,
}

impl Setup {
    async fn new() -> Option<Self> {
        let url = support::fresh_database().await?;
        let backend = PostgresBackend::connect(&url, "rt", PostgresSettings::default()).await.unwrap();
        let migrations = tempfile::tempdir().unwrap();
        std::fs::write(migrations.path().join("0001_init.sql"), SCHEMA).unwrap();
        Some(Self { url, _migrations: migrations, backend })
    }

    async fn open(&self, component: &str) -> Arc<dyn ComponentDatabase> {
        self.open_with_timeout(component, Duration::from_secs(10)).await
    }

    async fn open_with_timeout(&self, component: &str, timeout: Duration) -> Arc<dyn ComponentDatabase> {
        let publishes = BTreeSet::new();
        let options = OpenOptions { migrations: Some(self._migrations.path()), timeout, publishes: &publishes };
        self.backend.open(component, &options).await.unwrap()
    }
}

#[tokio::test]
async fn every_supported_type_maps_both_ways() {
    let Some(setup) = Setup::new().await else { return };
    let db = setup.open("types").await;
    let mut tx = db.begin(soon());
    let params = [
        Value::Int(-2),
        Value::Int(7),
        Value::Int(i64::MAX),
        Value::Float(1.5),
        Value::Float(-0.25),
        Value::Decimal("6.5650".into()),
        Value::Text("ü".into()),
        Value::Boolean(true),
        Value::Timestamp("2026-11-23T17:40:00+01:00".into()),
        Value::Date("2026-11-23".into()),
        Value::Json("{\"a\":[1,2]}".into()),
        Value::Uuid("6f9619ff-8b86-d011-b42d-00c04fc964ff".into()),
        Value::Bytes(vec![0, 255]),
    ];
    tx.execute(
        "INSERT INTO kinds (small, normal, big, real, double, amount, label, flag, at, day, doc, id, blob)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &params,
    )
    .await
    .unwrap();
    // A typeless NULL goes into columns of any type.
    tx.execute("INSERT INTO kinds (id, at, doc) VALUES ($1, $2, $3)", &[Value::Null, Value::Null, Value::Null]).await.unwrap();
    let rows = tx
        .query("SELECT small, normal, big, real, double, amount, label, flag, at, day, doc, id, blob FROM kinds ORDER BY big", &[])
        .await
        .unwrap();
    assert_eq!(rows.columns[5], "amount");
    assert_eq!(
        rows.rows[0],
        [
            Value::Int(-2),
            Value::Int(7),
            Value::Int(i64::MAX),
            Value::Float(1.5),
            Value::Float(-0.25),
            Value::Decimal("6.5650".into()),
            Value::Text("ü".into()),
            Value::Boolean(true),
            Value::Timestamp("2026-11-23T16:40:00Z".into()),
            Value::Date("2026-11-23".into()),
            Value::Json("{\"a\":[1,2]}".into()),
            Value::Uuid("6f9619ff-8b86-d011-b42d-00c04fc964ff".into()),
            Value::Bytes(vec![0, 255]),
        ]
    );
    assert!(rows.rows[1].iter().all(|v| *v == Value::Null));
}

#[tokio::test]
async fn parameters_take_the_type_postgres_infers_for_them() {
    let Some(setup) = Setup::new().await else { return };
    let db = setup.open("inference").await;
    let mut tx = db.begin(soon());
    let insert = "INSERT INTO kinds (small, normal, amount, label, id) VALUES ($1, $2, $3, $4, $5)";
    // The statement is first prepared with NULLs, then reused with values.
    tx.execute(insert, &[Value::Null, Value::Null, Value::Null, Value::Null, Value::Null]).await.unwrap();
    let values = [Value::Int(3), Value::Int(40_000), Value::Int(12), Value::Int(5), Value::Text("6f9619ff-8b86-d011-b42d-00c04fc964ff".into())];
    tx.execute(insert, &values).await.unwrap();
    // An s64 compared with smallint and integer columns, in a query's WHERE.
    let rows = tx
        .query("SELECT amount, label, id FROM kinds WHERE small = $1 AND normal = $2", &[Value::Int(3), Value::Int(40_000)])
        .await
        .unwrap();
    assert_eq!(
        rows.rows,
        [[Value::Decimal("12.0000".into()), Value::Text("5".into()), Value::Uuid("6f9619ff-8b86-d011-b42d-00c04fc964ff".into())]]
    );
    let error = tx.query("SELECT 1 FROM kinds WHERE small = $1", &[Value::Int(70_000)]).await.unwrap_err();
    assert!(matches!(&error, Error::UnsupportedType(m) if m.contains("$1") && m.contains("smallint")), "{error:?}");
    let error = tx.query("SELECT 1 FROM kinds WHERE small = $1", &[]).await.unwrap_err();
    assert!(matches!(&error, Error::InvalidQuery(m) if m.contains("1 parameters but 0")), "{error:?}");
}

#[tokio::test]
async fn unsupported_types_and_bad_values_are_errors_not_traps() {
    let Some(setup) = Setup::new().await else { return };
    let db = setup.open("types").await;
    let mut tx = db.begin(soon());
    let error = tx.query("SELECT '1 day'::interval AS span", &[]).await.unwrap_err();
    assert!(matches!(&error, Error::UnsupportedType(m) if m.contains("span") && m.contains("INTERVAL")), "{error:?}");
    let error = tx.query("SELECT $1::uuid", &[Value::Uuid("nope".into())]).await.unwrap_err();
    assert!(matches!(&error, Error::UnsupportedType(m) if m.contains("$1")), "{error:?}");
    let error = tx.query("SELEC 1", &[]).await.unwrap_err();
    assert!(matches!(error, Error::InvalidQuery(_)), "{error:?}");
    // The transaction is still usable after each error.
    assert_eq!(tx.query("SELECT 1 AS one", &[]).await.unwrap().rows[0], [Value::Int(1)]);
}

#[tokio::test]
async fn a_failed_statement_keeps_the_work_before_it() {
    let Some(setup) = Setup::new().await else { return };
    let db = setup.open("uow").await;
    let mut tx = db.begin(soon());
    tx.execute("UPDATE counters SET value = 5", &[]).await.unwrap();
    let duplicate = tx.execute("INSERT INTO counters VALUES ('a', 1)", &[]).await.unwrap_err();
    assert!(matches!(duplicate, Error::ConstraintViolation(_)), "{duplicate:?}");
    tx.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(counter(&db).await, 6);
}

#[tokio::test]
async fn commit_keeps_rollback_and_drop_discard() {
    let Some(setup) = Setup::new().await else { return };
    let db = setup.open("uow").await;
    let increment = "UPDATE counters SET value = value + 1";
    let mut tx = db.begin(soon());
    tx.execute(increment, &[]).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin(soon());
    tx.execute(increment, &[]).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = db.begin(soon());
    tx.execute(increment, &[]).await.unwrap();
    drop(tx);
    assert_eq!(counter(&db).await, 1);
}

#[tokio::test]
async fn statements_stop_at_the_component_timeout() {
    let Some(setup) = Setup::new().await else { return };
    let db = setup.open_with_timeout("slow", Duration::from_millis(300)).await;
    let started = Instant::now();
    let error = db.begin(soon()).query("SELECT pg_sleep(5)", &[]).await.unwrap_err();
    assert_eq!(error, Error::Timeout);
    assert!(started.elapsed() < Duration::from_secs(3));
    let error = db.begin(Instant::now()).query("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(error, Error::Timeout, "nothing starts after the deadline");
}

#[tokio::test]
async fn session_changes_do_not_leak_into_the_next_invocation() {
    let Some(setup) = Setup::new().await else { return };
    let db = setup.open("sessions").await;
    for _ in 0..20 {
        let mut tx = db.begin(soon());
        tx.execute("SET search_path = pg_catalog", &[]).await.unwrap();
        tx.commit().await.unwrap();
        let rows = db.begin(soon()).query("SELECT current_setting('search_path') AS path", &[]).await.unwrap();
        assert_eq!(rows.rows[0], [Value::Text("rt_sessions".into())]);
    }
}

#[tokio::test]
async fn components_cannot_reach_each_other_or_the_platform() {
    let Some(setup) = Setup::new().await else { return };
    let victim = setup.open("victim").await;
    let mut tx = victim.begin(soon());
    tx.execute("UPDATE counters SET value = 42", &[]).await.unwrap();
    tx.commit().await.unwrap();
    let intruder = setup.open("intruder").await;

    let attempts: &[&[&str]] = &[
        &["SELECT * FROM rt_victim.counters"],
        &["UPDATE rt_victim.counters SET value = 0"],
        &["SET search_path = rt_victim", "SELECT * FROM counters"],
        &["SET ROLE postgres"],
        &["SET LOCAL ROLE postgres"],
        &["RESET ROLE", "SELECT * FROM rt_victim.counters"],
        &["SET SESSION AUTHORIZATION postgres"],
        &["RESET SESSION AUTHORIZATION", "UPDATE rt_victim.counters SET value = 0"],
        &["SELECT * FROM joule.component_databases"],
        &["INSERT INTO joule.component_databases VALUES ('forged', 'x', 'y')"],
        &["CREATE SCHEMA evil"],
        &["DROP SCHEMA rt_victim CASCADE"],
        &["ALTER ROLE CURRENT_USER SUPERUSER"],
        &["GRANT USAGE ON SCHEMA rt_victim TO CURRENT_USER"],
        &["CREATE TABLE joule.forged (id int)"],
        &["CREATE TABLE public.forged (id int)"],
    ];
    for attempt in attempts {
        let mut tx = intruder.begin(soon());
        let mut refused = None;
        for statement in *attempt {
            if let Err(error) = tx.execute(statement, &[]).await {
                refused = Some(error);
                break;
            }
        }
        let error = refused.unwrap_or_else(|| panic!("{attempt:?} was not refused"));
        assert!(matches!(error, Error::AccessDenied(_) | Error::InvalidQuery(_)), "{attempt:?}: {error:?}");
        tx.commit().await.unwrap();
    }
    assert_eq!(counter(&victim).await, 42, "the victim's data is untouched");
    assert_eq!(counter(&intruder).await, 0, "the intruder still works in its own schema");
}

#[tokio::test]
async fn migrations_run_once_even_when_replicas_start_together() {
    let Some(setup) = Setup::new().await else { return };
    let replicas = (0..4).map(|_| {
        let url = setup.url.clone();
        let dir = setup._migrations.path().to_path_buf();
        tokio::spawn(async move {
            let backend = PostgresBackend::connect(&url, "rt", PostgresSettings::default()).await.unwrap();
            let publishes = BTreeSet::new();
            let options =
                OpenOptions { migrations: Some(Path::new(&dir)), timeout: Duration::from_secs(10), publishes: &publishes };
            backend.open("shared", &options).await.unwrap()
        })
    });
    let mut databases = Vec::new();
    for replica in replicas.collect::<Vec<_>>() {
        databases.push(replica.await.unwrap());
    }
    let rows = databases[0].begin(soon()).query("SELECT count(*) AS n FROM _sqlx_migrations", &[]).await.unwrap();
    assert_eq!(rows.rows[0], [Value::Int(1)]);
    // A restart finds the schema in place and applies nothing again.
    let again = setup.open("shared").await;
    assert_eq!(counter(&again).await, 0);
}

#[tokio::test]
async fn an_unreachable_database_fails_with_a_clear_error() {
    let error = PostgresBackend::connect("postgres://postgres@127.0.0.1:1/none", "rt", PostgresSettings::default())
        .await
        .err()
        .unwrap();
    let message = format!("{error:#}");
    assert!(message.contains("127.0.0.1:1/none") && message.contains("DATABASE_URL"), "{message}");
    assert!(PostgresBackend::connect("mysql://x", "rt", PostgresSettings::default()).await.is_err());
}

#[tokio::test]
async fn connections_that_died_while_idle_are_replaced_at_begin() {
    let Some(setup) = Setup::new().await else { return };
    let db = setup.open("idle").await;
    // Several connections go back to the pool idle.
    let transactions: Vec<_> = (0..3).map(|_| db.begin(soon())).collect();
    let mut held = Vec::new();
    for mut tx in transactions {
        tx.query("SELECT 1", &[]).await.unwrap();
        held.push(tx);
    }
    for tx in held {
        tx.commit().await.unwrap();
    }
    use sqlx::Connection as _;
    let mut admin = sqlx::PgConnection::connect(&setup.url).await.unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND usename <> current_user",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(killed.len() >= 3, "the component's idle sessions were ended: {killed:?}");
    assert_eq!(counter(&db).await, 0, "the next unit of work runs on a fresh connection");
}
