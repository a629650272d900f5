//! How the Postgres backend saves round trips without weakening the unit of work, against a
//! real Postgres: reads before the first write run alone, without `BEGIN` and `COMMIT`; a read
//! that writes, or takes a transaction-scoped lock, still belongs to the unit of work; and a
//! connection goes straight from one invocation to the next without sqlx's release ping; a
//! handler's inbox record goes with its `BEGIN`. The round trips each kind of invocation
//! costs are counted through a proxy.

mod support;

#[path = "postgres_support/counting_proxy.rs"]
mod counting_proxy;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use joule_runtime::database::postgres::{PostgresBackend, PostgresSettings};
use joule_runtime::database::{ComponentDatabase, DatabaseBackend, OpenOptions};
use joule_world::database::Value;
use support::{counter, soon};

const SCHEMA: &str = "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters VALUES ('a', 0);";

/// A component database with a `counters` table, on a fresh database.
async fn open(component: &str, pool_size: u32) -> Option<(Arc<dyn ComponentDatabase>, tempfile::TempDir)> {
    let url = support::fresh_database().await?;
    let settings = PostgresSettings { pool_size, ..PostgresSettings::default() };
    let backend = PostgresBackend::connect(&url, "rt", settings).await.unwrap();
    let migrations = tempfile::tempdir().unwrap();
    std::fs::write(migrations.path().join("0001_init.sql"), SCHEMA).unwrap();
    let publishes = BTreeSet::new();
    let timeout = Duration::from_secs(10);
    let options = OpenOptions { migrations: Some(migrations.path()), timeout, publishes: &publishes };
    Some((backend.open(component, &options).await.unwrap(), migrations))
}

/// Alone, a statement runs in the session's default, read-only, transaction; the unit of
/// work's transaction is `BEGIN READ WRITE`.
const ALONE: &str = "SELECT current_setting('transaction_read_only') = 'on' AS alone";

#[tokio::test]
async fn reads_before_the_first_write_run_alone_and_the_rest_inside_the_transaction() {
    let Some((db, _migrations)) = open("alone", 10).await else { return };
    let mut tx = db.begin(soon());
    assert_eq!(tx.query(ALONE, &[]).await.unwrap().rows[0], [Value::Boolean(true)]);
    tx.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap();
    assert_eq!(tx.query(ALONE, &[]).await.unwrap().rows[0], [Value::Boolean(false)], "after a write, inside");
    tx.rollback().await.unwrap();
    assert_eq!(counter(&db).await, 0);
}

#[tokio::test]
async fn a_read_that_writes_belongs_to_the_unit_of_work() {
    let Some((db, _migrations)) = open("writing_read", 10).await else { return };
    let bump = "WITH bumped AS (UPDATE counters SET value = value + 1 RETURNING value) SELECT value FROM bumped";
    let mut tx = db.begin(soon());
    assert_eq!(tx.query(bump, &[]).await.unwrap().rows[0], [Value::Int(1)]);
    tx.rollback().await.unwrap();
    assert_eq!(counter(&db).await, 0, "rolled back with the unit of work");
    let mut tx = db.begin(soon());
    tx.query(bump, &[]).await.unwrap();
    assert_eq!(tx.query(ALONE, &[]).await.unwrap().rows[0], [Value::Boolean(false)], "the write began the transaction");
    tx.commit().await.unwrap();
    assert_eq!(counter(&db).await, 1);
}

#[tokio::test]
async fn a_transaction_scoped_lock_taken_by_a_read_lasts_until_the_end() {
    let Some((db, _migrations)) = open("locks", 10).await else { return };
    let mut holder = db.begin(soon());
    holder.query("SELECT pg_advisory_xact_lock(7)", &[]).await.unwrap();
    let try_lock = "SELECT pg_try_advisory_xact_lock(7) AS taken";
    let mut other = db.begin(soon());
    assert_eq!(other.query(try_lock, &[]).await.unwrap().rows[0], [Value::Boolean(false)]);
    other.rollback().await.unwrap();
    holder.commit().await.unwrap();
    let mut after = db.begin(soon());
    assert_eq!(after.query(try_lock, &[]).await.unwrap().rows[0], [Value::Boolean(true)]);
    after.commit().await.unwrap();
}

#[tokio::test]
async fn an_invocation_hands_its_connection_to_the_next_with_its_session_reset() {
    let Some((db, _migrations)) = open("handover", 10).await else { return };
    let backend_pid = |rows: joule_world::database::RowSet| rows.rows[0][0].clone();
    let mut pids = Vec::new();
    for _ in 0..5 {
        let mut tx = db.begin(soon());
        tx.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap();
        pids.push(backend_pid(tx.query("SELECT pg_backend_pid()", &[]).await.unwrap()));
        tx.commit().await.unwrap();
    }
    assert!(pids.windows(2).all(|pair| pair[0] == pair[1]), "one connection served them all: {pids:?}");
    let mut tx = db.begin(soon());
    tx.execute("SET application_name = 'changed'", &[]).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin(soon());
    let next = tx.query("SELECT pg_backend_pid(), current_setting('application_name')", &[]).await.unwrap();
    assert_eq!(next.rows[0], [pids[0].clone(), Value::Text("joule:handover".into())], "the same session, reset");
    tx.commit().await.unwrap();
    assert_eq!(counter(&db).await, 5);
}

#[tokio::test]
async fn invocations_beyond_the_pool_size_take_turns_and_all_finish() {
    let Some((db, _migrations)) = open("turns", 2).await else { return };
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    let mut tx = db.begin(soon());
                    tx.query("SELECT value FROM counters", &[]).await.unwrap();
                    tx.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap();
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(counter(&db).await, 160);
}

#[tokio::test]
async fn a_delivery_is_recorded_as_the_transaction_begins_and_survives_a_failed_statement() {
    let Some((db, _migrations)) = open("inbox", 10).await else { return };
    // The id goes into the batch as a literal: quotes and SQL in it stay data.
    let id = "evt-1'); DROP TABLE counters; --";
    let mut tx = db.begin(soon());
    assert!(tx.record_delivery(id).await.unwrap(), "first delivery");
    let duplicate_key = tx.execute("INSERT INTO counters VALUES ('a', 1)", &[]).await;
    assert!(duplicate_key.is_err(), "counter a already exists");
    tx.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(counter(&db).await, 1, "the handler's write after the failed statement committed");

    let mut again = db.begin(soon());
    assert!(!again.record_delivery(id).await.unwrap(), "the committed record marks a redelivery");
    again.rollback().await.unwrap();

    let mut rolled_back = db.begin(soon());
    assert!(rolled_back.record_delivery("evt-2").await.unwrap());
    rolled_back.rollback().await.unwrap();
    // Recorded inside a transaction that already began: the same answer, the same unit of work.
    let mut later = db.begin(soon());
    later.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap();
    assert!(later.record_delivery("evt-2").await.unwrap(), "a rolled-back record is gone");
    assert!(!later.record_delivery("evt-2").await.unwrap(), "and once recorded, it is there");
    later.commit().await.unwrap();
    assert_eq!(counter(&db).await, 2);
}

/// Requests sent to Postgres per invocation, in steady state, counted through a proxy: each
/// write from the backend's side of a connection is one round trip it waits on (or, for a
/// reset after an invocation that only read, one it does not wait on).
#[tokio::test]
async fn round_trips_per_invocation() {
    let Some(url) = support::fresh_database().await else { return };
    let (proxied, sends) = counting_proxy::start(&url).await;
    let settings = PostgresSettings { pool_size: 1, ..PostgresSettings::default() };
    let backend = PostgresBackend::connect(&proxied, "rt", settings).await.unwrap();
    let migrations = tempfile::tempdir().unwrap();
    std::fs::write(migrations.path().join("0001_init.sql"), SCHEMA).unwrap();
    let publishes = BTreeSet::new();
    let options = OpenOptions { migrations: Some(migrations.path()), timeout: Duration::from_secs(10), publishes: &publishes };
    let db = backend.open("trips", &options).await.unwrap();
    let mut events = 0;
    let mut measured = Vec::new();
    for kind in ["write", "two reads", "handler"] {
        let mut per_invocation = 0.0;
        for round in 0..2 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let before = sends.load(std::sync::atomic::Ordering::SeqCst);
            for _ in 0..10 {
                let mut tx = db.begin(soon());
                match kind {
                    "write" => drop(tx.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap()),
                    "two reads" => {
                        tx.query("SELECT value FROM counters WHERE name = $1", &[Value::Text("a".into())]).await.unwrap();
                        tx.query("SELECT count(*) FROM counters", &[]).await.unwrap();
                    }
                    _ => {
                        events += 1;
                        assert!(tx.record_delivery(&format!("evt-{events}")).await.unwrap());
                        tx.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap();
                    }
                }
                tx.commit().await.unwrap();
            }
            // The first round warms the connection and its prepared statements.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let sent = sends.load(std::sync::atomic::Ordering::SeqCst) - before;
            if round == 1 {
                per_invocation = sent as f64 / 10.0;
            }
        }
        measured.push((kind, per_invocation));
    }
    eprintln!("round trips per invocation: {measured:?}");
    assert_eq!(measured, [("write", 3.0), ("two reads", 3.0), ("handler", 3.0)]);
}
