//! What a unit of work holds on Postgres lasts until it ends, whatever fails in between:
//! transaction-scoped locks and settings taken without writing survive a failed statement,
//! and a failed inbox record leaves its connection fit for the next invocation.

mod postgres_support;
mod support;

use std::time::Duration;

use joule_world::database::{Error, Value};
use postgres_support::{App, sessions};
use support::{counter, soon};

const DUPLICATE: &str = "INSERT INTO counters VALUES ('a', 1)";
const INCREMENT: &str = "UPDATE counters SET value = value + 1";

#[tokio::test]
async fn an_advisory_lock_taken_without_writing_outlives_a_failed_statement() {
    let Some(app) = App::fresh("rt", 10).await else { return };
    let db = app.open("locks").await;
    let mut holder = db.begin(soon());
    holder.query("SELECT pg_advisory_xact_lock(7)", &[]).await.unwrap();
    let failed = holder.execute(DUPLICATE, &[]).await.unwrap_err();
    assert!(matches!(failed, Error::ConstraintViolation(_)), "{failed:?}");

    let mut other = db.begin(soon());
    let taken = other.query("SELECT pg_try_advisory_xact_lock(7) AS taken", &[]).await.unwrap();
    assert_eq!(taken.rows[0], [Value::Boolean(false)], "the holder still has the lock");
    other.rollback().await.unwrap();

    holder.execute(INCREMENT, &[]).await.unwrap();
    holder.commit().await.unwrap();
    assert_eq!(counter(&db).await, 1);
}

#[tokio::test]
async fn a_row_lock_taken_without_writing_outlives_a_failed_statement() {
    let Some(app) = App::fresh("rt", 10).await else { return };
    let db = app.open("rows").await;
    let mut holder = db.begin(soon());
    holder.query("SELECT value FROM counters WHERE name = 'a' FOR UPDATE", &[]).await.unwrap();
    holder.execute(DUPLICATE, &[]).await.unwrap_err();

    let mut other = db.begin(soon());
    let free = other.query("SELECT name FROM counters FOR UPDATE SKIP LOCKED", &[]).await.unwrap();
    assert!(free.rows.is_empty(), "the row is still locked: {free:?}");
    other.rollback().await.unwrap();
    holder.commit().await.unwrap();
}

#[tokio::test]
async fn a_transaction_scoped_setting_outlives_a_failed_statement() {
    let Some(app) = App::fresh("rt", 10).await else { return };
    let db = app.open("settings").await;
    let mut tx = db.begin(soon());
    tx.query("SELECT set_config('joule.test', 'kept', true)", &[]).await.unwrap();
    tx.execute(DUPLICATE, &[]).await.unwrap_err();
    let setting = tx.query("SELECT current_setting('joule.test', true) AS setting", &[]).await.unwrap();
    assert_eq!(setting.rows[0], [Value::Text("kept".into())]);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_snapshot_outlives_a_failed_statement() {
    let Some(app) = App::fresh("rt", 10).await else { return };
    let db = app.open("snapshot").await;
    let read = "SELECT value FROM counters WHERE name = 'a'";
    let mut tx = db.begin(soon());
    tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", &[]).await.unwrap();
    assert_eq!(tx.query(read, &[]).await.unwrap().rows[0], [Value::Int(0)]);
    tx.execute(DUPLICATE, &[]).await.unwrap_err();
    let mut writer = db.begin(soon());
    writer.execute(INCREMENT, &[]).await.unwrap();
    writer.commit().await.unwrap();
    assert_eq!(tx.query(read, &[]).await.unwrap().rows[0], [Value::Int(0)], "the same snapshot");
    tx.commit().await.unwrap();
    assert_eq!(counter(&db).await, 1);
}

#[tokio::test]
async fn a_failed_inbox_record_keeps_its_connection() {
    let Some(app) = App::fresh("rt", 2).await else { return };
    let db = app.try_open("inbox", Duration::from_millis(500), &[]).await.unwrap();
    let mut admin = app.admin().await;
    let mut first = db.begin(soon());
    assert!(first.record_delivery("evt-1").await.unwrap());
    // A redelivery while the first is still running waits for it, past the statement timeout.
    let second = tokio::spawn({
        let db = db.clone();
        async move {
            let mut tx = db.begin(soon());
            let recorded = tx.record_delivery("evt-1").await;
            (tx, recorded)
        }
    });
    let mut waiting = None;
    for _ in 0..40 {
        let found = sessions(&mut admin, "inbox").await;
        let blocked = |(_, state, query): &&(i32, String, String)| state == "active" && query.contains("record_delivery");
        waiting = found.iter().find(blocked).map(|s| s.0);
        if waiting.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let waiting = waiting.expect("the redelivery's session was seen waiting");
    let (tx, recorded) = second.await.unwrap();
    assert_eq!(recorded.unwrap_err(), Error::Timeout);
    tx.rollback().await.unwrap();

    // Its connection serves the next invocation, while the first still holds the other.
    let mut next = db.begin(soon());
    let pid = next.query("SELECT pg_backend_pid() AS pid", &[]).await.unwrap();
    assert_eq!(pid.rows[0], [Value::Int(waiting.into())], "the same session, not a new one");
    next.commit().await.unwrap();
    first.commit().await.unwrap();
    let alive = sessions(&mut admin, "inbox").await;
    assert!(alive.iter().any(|s| s.0 == waiting), "{alive:?}");
}
