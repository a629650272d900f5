use std::sync::Arc;

use joule_world::database::{Error, Value};

use super::*;

fn far() -> Instant {
    Instant::now() + std::time::Duration::from_secs(60)
}

async fn database(dir: &tempfile::TempDir, migration: &str) -> Arc<dyn ComponentDatabase> {
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(migrations.join("0001_init.sql"), migration).unwrap();
    let publishes = std::collections::BTreeSet::new();
    let options = OpenOptions { migrations: Some(&migrations), timeout: std::time::Duration::from_secs(5), publishes: &publishes };
    SqliteBackend::new(dir.path().join("databases")).open("test", &options).await.unwrap()
}

const COUNTERS: &str = "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
                        INSERT INTO counters VALUES ('a', 0);";

async fn counter(db: &Arc<dyn ComponentDatabase>) -> i64 {
    let rows = db.begin(far()).query("SELECT value FROM counters WHERE name = 'a'", &[]).await.unwrap();
    match rows.rows[0][0] {
        Value::Int(v) => v,
        ref other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn values_round_trip_in_their_canonical_form() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, "CREATE TABLE t (i BIGINT, f DOUBLE PRECISION, d TEXT, s TEXT, b BOOLEAN, ts TIMESTAMPTZ, day DATE, j JSONB, u UUID, bytes BYTEA, n TEXT);").await;
    let mut tx = db.begin(far());
    let params = [
        Value::Int(-7),
        Value::Float(1.5),
        Value::Decimal("6.5650".into()),
        Value::Text("ü".into()),
        Value::Boolean(true),
        Value::Timestamp("2026-11-23T17:40:00+01:00".into()),
        Value::Date("2026-11-23".into()),
        Value::Json("{\"a\":1}".into()),
        Value::Uuid("6F9619FF-8B86-D011-B42D-00C04FC964FF".into()),
        Value::Bytes(vec![0, 255]),
        Value::Null,
    ];
    let changed = tx
        .execute("INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", &params)
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let rows = tx.query("SELECT * FROM t", &[]).await.unwrap();
    assert_eq!(rows.columns, ["i", "f", "d", "s", "b", "ts", "day", "j", "u", "bytes", "n"]);
    assert_eq!(
        rows.rows[0],
        [
            Value::Int(-7),
            Value::Float(1.5),
            Value::Text("6.5650".into()),
            Value::Text("ü".into()),
            Value::Int(1),
            Value::Text("2026-11-23T16:40:00.000000Z".into()),
            Value::Text("2026-11-23".into()),
            Value::Text("{\"a\":1}".into()),
            Value::Text("6f9619ff-8b86-d011-b42d-00c04fc964ff".into()),
            Value::Bytes(vec![0, 255]),
            Value::Null,
        ]
    );
}

#[tokio::test]
async fn numbered_parameters_bind_by_number() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let rows = db.begin(far()).query("SELECT $2 AS b, $1 AS a", &[Value::Int(1), Value::Int(2)]).await.unwrap();
    assert_eq!(rows.rows[0], [Value::Int(2), Value::Int(1)]);
}

#[tokio::test]
async fn an_empty_result_still_names_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let rows = db.begin(far()).query("SELECT name, value FROM counters WHERE name = 'none'", &[]).await.unwrap();
    assert_eq!(rows.columns, ["name", "value"]);
    assert!(rows.rows.is_empty());
}

#[tokio::test]
async fn commit_keeps_and_rollback_or_drop_discards() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let increment = "UPDATE counters SET value = value + 1 WHERE name = 'a'";

    let mut tx = db.begin(far());
    tx.execute(increment, &[]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(counter(&db).await, 1);

    let mut tx = db.begin(far());
    tx.execute(increment, &[]).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(counter(&db).await, 1);

    let mut tx = db.begin(far());
    tx.execute(increment, &[]).await.unwrap();
    drop(tx);
    assert_eq!(counter(&db).await, 1);
}

#[tokio::test]
async fn concurrent_writers_take_turns() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let tasks = (0..20).map(|_| {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tx = db.begin(far());
            let rows = tx.execute("UPDATE counters SET value = value + 1 WHERE name = 'a'", &[]).await.unwrap();
            assert_eq!(rows, 1);
            tx.commit().await.unwrap();
        })
    });
    for task in tasks.collect::<Vec<_>>() {
        task.await.unwrap();
    }
    assert_eq!(counter(&db).await, 20);
}

#[tokio::test]
async fn a_reader_that_writes_is_upgraded_when_its_snapshot_is_current() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let mut tx = db.begin(far());
    tx.query("SELECT value FROM counters", &[]).await.unwrap();
    tx.execute("UPDATE counters SET value = 5", &[]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(counter(&db).await, 5);
}

#[tokio::test]
async fn a_reader_whose_snapshot_went_stale_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let mut reader = db.begin(far());
    reader.query("SELECT value FROM counters", &[]).await.unwrap();

    let mut writer = db.begin(far());
    writer.execute("UPDATE counters SET value = 1", &[]).await.unwrap();
    writer.commit().await.unwrap();

    let error = reader.execute("UPDATE counters SET value = 100", &[]).await.unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    drop(reader);
    assert_eq!(counter(&db).await, 1);
}

#[tokio::test]
async fn errors_are_typed_for_the_guest() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let mut tx = db.begin(far());
    let duplicate = tx.execute("INSERT INTO counters VALUES ('a', 1)", &[]).await.unwrap_err();
    assert!(matches!(duplicate, Error::ConstraintViolation(_)), "{duplicate:?}");
    let syntax = tx.execute("INSERT INTO nowhere VALUES (1)", &[]).await.unwrap_err();
    assert!(matches!(syntax, Error::InvalidQuery(ref m) if m.contains("nowhere")), "{syntax:?}");
    let bad = tx.query("SELECT $1", &[Value::Timestamp("soon".into())]).await.unwrap_err();
    assert!(matches!(bad, Error::UnsupportedType(ref m) if m.contains("$1")), "{bad:?}");
    // A failed statement does not spoil the rest of the unit of work on SQLite.
    tx.execute("UPDATE counters SET value = 9", &[]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(counter(&db).await, 9);
}

#[tokio::test]
async fn migrations_apply_once_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let mut tx = db.begin(far());
    tx.execute("UPDATE counters SET value = 3", &[]).await.unwrap();
    tx.commit().await.unwrap();
    drop(db);
    // Re-running the INSERT in the migration would fail on the primary key.
    let db = database(&dir, COUNTERS).await;
    assert_eq!(counter(&db).await, 3);
}

#[tokio::test]
async fn other_database_files_are_out_of_reach() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let elsewhere = dir.path().join("elsewhere.db");
    let mut tx = db.begin(far());
    for statement in [
        format!("ATTACH DATABASE '{}' AS other", elsewhere.display()),
        format!("VACUUM INTO '{}'", elsewhere.display()),
    ] {
        let error = tx.execute(&statement, &[]).await.unwrap_err();
        assert!(matches!(error, Error::InvalidQuery(_)), "{statement}: {error:?}");
    }
    assert!(!elsewhere.exists());
}

/// A query that would run for minutes: a recursive count to a billion.
const RUNAWAY: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT count(*) FROM n";

#[tokio::test]
async fn a_runaway_query_is_interrupted_at_the_deadline_and_the_writer_is_free_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let started = Instant::now();
    let mut runaway = db.begin(Instant::now() + std::time::Duration::from_millis(300));
    // A write first, so the runaway holds the single writer.
    runaway.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap();
    let error = runaway.query(RUNAWAY, &[]).await.unwrap_err();
    assert_eq!(error, Error::Timeout);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "interrupted, not run to the end");
    drop(runaway);
    let mut next = db.begin(far());
    next.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap();
    next.commit().await.unwrap();
    assert_eq!(counter(&db).await, 1, "the interrupted unit of work left nothing behind");
}

#[tokio::test]
async fn waiting_for_the_writer_ends_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let mut holder = db.begin(far());
    holder.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap();
    let started = Instant::now();
    let mut waiter = db.begin(Instant::now() + std::time::Duration::from_millis(200));
    let error = waiter.execute("UPDATE counters SET value = value + 1", &[]).await.unwrap_err();
    assert_eq!(error, Error::Timeout);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "gave up at its deadline");
    holder.commit().await.unwrap();
    assert_eq!(counter(&db).await, 1);
}

#[tokio::test]
async fn a_component_cannot_end_or_split_its_unit_of_work() {
    use joule_world::database::Host as _;
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, COUNTERS).await;
    let mut unit = crate::database::DatabaseState::new("test".into(), Some(db.clone()), far(), None);
    // The database capability's view: SQL on the unit of work.
    let mut state = crate::capabilities::shape::View { state: &mut (), unit: &mut unit };
    state.execute("UPDATE counters SET value = value + 1".into(), vec![]).await.unwrap().unwrap();
    for control in ["COMMIT", "/* done */ end", "rollback", "SAVEPOINT s", "RELEASE s", "BEGIN", "start transaction"] {
        let refused = state.execute(control.into(), vec![]).await.unwrap();
        assert!(matches!(refused, Err(Error::AccessDenied(_))), "{control}: {refused:?}");
    }
    // Nor behind another statement: one call runs one statement, as on Postgres.
    for smuggled in ["UPDATE counters SET value = 5; COMMIT", "SELECT 1; COMMIT"] {
        let refused = state.execute(smuggled.into(), vec![]).await.unwrap();
        assert!(refused.is_err(), "{smuggled}: {refused:?}");
        let refused = state.query(smuggled.into(), vec![]).await.unwrap();
        assert!(refused.is_err(), "{smuggled}: {refused:?}");
    }
    unit.finish(false).await.unwrap();
    assert_eq!(counter(&db).await, 0, "the platform's rollback still undoes the update");
}
