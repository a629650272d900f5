//! Nothing a component does to its Postgres session outlives its invocation: settings,
//! session advisory locks, temporary tables, cursors, listeners and prepared statements are
//! gone when the connection serves the next invocation, which keeps the connection rather
//! than opening another. A statement still running when its invocation ends is cancelled on
//! the server.

mod postgres_support;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use joule_runtime::database::ComponentDatabase;
use joule_world::database::{Error, Value};
use postgres_support::{App, COUNTERS, sessions};
use support::soon;

/// A function that changes the session from inside a plain `SELECT`.
const LEAKY: &str = "CREATE FUNCTION leak() RETURNS void LANGUAGE plpgsql AS $$
BEGIN EXECUTE 'SET statement_timeout = 0'; END $$;";

/// What the next invocation finds of the session, and on which backend.
async fn session(db: &Arc<dyn ComponentDatabase>) -> Vec<Value> {
    let mut tx = db.begin(soon());
    let rows = tx
        .query(
            "SELECT pg_backend_pid() AS pid, current_setting('search_path') AS search_path,
                    current_setting('statement_timeout') AS statement_timeout,
                    current_setting('default_transaction_read_only') AS read_only,
                    (SELECT count(*) FROM pg_cursors WHERE is_holdable) AS cursors,
                    (SELECT count(*) FROM pg_listening_channels()) AS listening,
                    (SELECT count(*) FROM pg_prepared_statements WHERE from_sql) AS prepared,
                    (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS temporary,
                    (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks",
            &[],
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows.rows[0].clone()
}

fn clean(pid: &Value) -> Vec<Value> {
    let mut expected = vec![pid.clone(), Value::Text("rt_sessions".into()), Value::Text("10s".into())];
    expected.push(Value::Text("on".into()));
    expected.extend([0, 0, 0, 0, 0].map(Value::Int));
    expected
}

#[tokio::test]
async fn nothing_a_component_does_to_its_session_reaches_the_next_invocation() {
    let Some(url) = support::fresh_database().await else { return };
    let app = App::on(&url, "rt", 1, &format!("{COUNTERS}\n{LEAKY}")).await.unwrap();
    let db = app.open("sessions").await;
    let pid = session(&db).await[0].clone();
    let attempts: &[&[&str]] = &[
        // Alone, before any write: no transaction of the unit of work's own.
        &["SELECT set_config('statement_timeout', '0', false)"],
        &["SELECT leak()"],
        &["SELECT pg_advisory_lock(1)"],
        &["SELECT pg_try_advisory_lock(2)"],
        // Inside the transaction, however the statement is spelled.
        &["UPDATE counters SET value = 1", "SELECT set_config('search_path', 'pg_catalog', false)"],
        &["/* set local */ SET search_path = pg_catalog"],
        &["/* /* nested */ */ SET statement_timeout = 0"],
        &["SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"],
        &["UPDATE counters SET value = 2", "SELECT pg_advisory_lock(3)"],
        &["CREATE TEMP TABLE scratch (x int)"],
        &["DECLARE kept CURSOR WITH HOLD FOR SELECT 1"],
        &["LISTEN somewhere"],
        &["PREPARE mine AS SELECT 1"],
        &["SET ROLE NONE", "SET SESSION AUTHORIZATION DEFAULT"],
    ];
    for attempt in attempts {
        for commit in [true, false] {
            let mut tx = db.begin(soon());
            for statement in *attempt {
                tx.execute(statement, &[]).await.unwrap_or_else(|e| panic!("{statement}: {e:?}"));
            }
            if commit { tx.commit().await.unwrap() } else { tx.rollback().await.unwrap() }
            // A unit of work that only read hands its connection back once it is reset.
            let until = Instant::now() + Duration::from_secs(5);
            let mut found = session(&db).await;
            while found != clean(&pid) && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(50)).await;
                found = session(&db).await;
            }
            assert_eq!(found, clean(&pid), "{attempt:?} (commit: {commit})");
        }
    }
}

#[tokio::test]
async fn a_session_advisory_lock_is_released_when_the_invocation_ends() {
    let Some(app) = App::fresh("rt", 4).await else { return };
    let db = app.open("locks").await;
    let mut admin = app.admin().await;
    let mut tx = db.begin(soon());
    tx.query("SELECT pg_advisory_lock(42)", &[]).await.unwrap();
    tx.commit().await.unwrap();
    let until = Instant::now() + Duration::from_secs(2);
    let try_lock = "SELECT pg_try_advisory_lock(42)";
    while !sqlx::query_scalar::<_, bool>(try_lock).fetch_one(&mut admin).await.unwrap() {
        assert!(Instant::now() < until, "the component's session still holds the lock");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_statement_past_the_deadline_is_cancelled_on_the_server() {
    let Some(superuser) = support::fresh_database().await else { return };
    let Some(owner) = postgres_support::fresh_database_of_an_owner().await else { return };
    // As a superuser, or as the database's owner, which cancels as a member of the component's role.
    for url in [superuser, owner] {
        let app = App::on(&url, "rt", 4, COUNTERS).await.unwrap();
        // The statement timeout is far away: only the invocation's deadline stops the statement.
        let db = app.try_open("deadline", Duration::from_secs(60), &[]).await.unwrap();
        let mut admin = app.admin().await;
        for first_write in [false, true] {
            let started = Instant::now();
            let mut tx = db.begin(Instant::now() + Duration::from_millis(500));
            if first_write {
                tx.execute("UPDATE counters SET value = 1", &[]).await.unwrap();
            }
            let slept = tokio::time::timeout(Duration::from_secs(5), tx.query("SELECT pg_sleep(30)", &[])).await;
            assert_eq!(slept.expect("the statement ends at the deadline").unwrap_err(), Error::Timeout);
            assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
            let error = tx.commit().await.unwrap_err();
            assert_eq!(error, Error::Timeout, "a unit of work cut short does not commit");
            not_sleeping(&mut admin, "deadline").await;
        }
        let value = db.begin(soon()).query("SELECT value FROM counters", &[]).await.unwrap();
        assert_eq!(value.rows[0], [Value::Int(0)], "{url}");
    }
}

#[tokio::test]
async fn a_statement_whose_invocation_is_dropped_is_cancelled_on_the_server() {
    let Some(app) = App::fresh("rt", 4).await else { return };
    let db = app.try_open("dropped", Duration::from_secs(60), &[]).await.unwrap();
    let mut admin = app.admin().await;
    for first_write in [false, true] {
        let db = db.clone();
        let invocation = tokio::spawn(async move {
            let mut tx = db.begin(soon());
            if first_write {
                tx.execute("UPDATE counters SET value = 1", &[]).await.unwrap();
            }
            tx.query("SELECT pg_sleep(30)", &[]).await
        });
        let until = Instant::now() + Duration::from_secs(5);
        while !sleeping(&sessions(&mut admin, "dropped").await) {
            assert!(Instant::now() < until, "the statement never ran");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // As a trigger drops an invocation at its deadline.
        invocation.abort();
        not_sleeping(&mut admin, "dropped").await;
    }
    let mut tx = db.begin(soon());
    let value = tx.query("SELECT value FROM counters", &[]).await.unwrap();
    assert_eq!(value.rows[0], [Value::Int(0)], "the dropped unit of work did not commit");
    tx.commit().await.unwrap();
}

/// Waits up to two seconds for the component's `pg_sleep` to stop on the server.
async fn not_sleeping(admin: &mut sqlx::PgConnection, component: &str) {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let found = sessions(admin, component).await;
        if !sleeping(&found) {
            return;
        }
        assert!(Instant::now() < until, "still running on the server: {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sleeping(sessions: &[(i32, String, String)]) -> bool {
    sessions.iter().any(|(_, state, query)| state == "active" && query.contains("pg_sleep"))
}
