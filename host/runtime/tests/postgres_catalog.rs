//! What a component can learn of another through Postgres's catalogs: names and definitions
//! (which Postgres shows every role), but no data. Another component's query texts and
//! column statistics are hidden, and its sessions cannot be cancelled or ended.

mod postgres_support;
mod support;

use std::time::Duration;

use joule_world::database::{Error, Value};
use postgres_support::App;
use support::soon;

#[tokio::test]
async fn another_components_queries_statistics_and_sessions_are_out_of_reach() {
    let Some(app) = App::fresh("rt", 2).await else { return };
    let victim = app.open("victim").await;
    let intruder = app.open("intruder").await;
    let mut tx = victim.begin(soon());
    tx.execute("INSERT INTO counters SELECT 'secret-' || g, g FROM generate_series(1, 50) g", &[]).await.unwrap();
    tx.execute("ANALYZE counters", &[]).await.unwrap();
    tx.commit().await.unwrap();
    let running = tokio::spawn({
        let victim = victim.clone();
        async move { victim.begin(soon()).query("SELECT pg_sleep(1), 'secret-literal' AS s", &[]).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut tx = intruder.begin(soon());
    let seen = tx
        .query(
            "SELECT count(*) FILTER (WHERE query LIKE '%secret-literal%') AS texts,
                    max(pid) FILTER (WHERE application_name = 'joule:victim') AS pid
             FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(seen.rows[0][0], Value::Int(0), "another role's query text is hidden");
    let Value::Int(pid) = seen.rows[0][1] else { panic!("the victim's session is listed: {seen:?}") };
    let stats = tx.query("SELECT count(*) FROM pg_stats WHERE schemaname = 'rt_victim'", &[]).await.unwrap();
    assert_eq!(stats.rows[0], [Value::Int(0)], "column statistics of another's table are hidden");
    for signal in ["pg_cancel_backend", "pg_terminate_backend"] {
        let error = tx.query(&format!("SELECT {signal}($1::int)"), &[Value::Int(pid)]).await.unwrap_err();
        assert!(matches!(error, Error::AccessDenied(_)), "{signal}: {error:?}");
    }
    tx.commit().await.unwrap();
    let slept = running.await.unwrap().unwrap();
    assert_eq!(slept.rows[0][1], Value::Text("secret-literal".into()), "the victim's statement ran to its end");
}
