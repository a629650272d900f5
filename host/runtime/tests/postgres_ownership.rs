//! Each schema and role on a Postgres database belongs to one application's component. Two
//! applications (or components) whose names map to the same schema cannot share it: the
//! second is refused at startup, naming the schema and its owner, and nothing of the first
//! changes. Applications that share a database keep their own event grants and inboxes, and
//! rows from before ownership was recorded are adopted by their application.

mod postgres_support;
mod support;

use std::sync::Arc;

use joule_runtime::database::ComponentDatabase;
use joule_runtime::events::Envelope;
use joule_world::database::Error;
use postgres_support::{App, COUNTERS};
use sqlx::Connection as _;
use support::{counter, soon};

const SET_42: &str = "UPDATE counters SET value = 42";

fn event(event_type: &str) -> Envelope {
    Envelope::new(uuid::Uuid::new_v4().to_string(), "stations", event_type, serde_json::json!({}), None, None)
}

async fn publish(db: &Arc<dyn ComponentDatabase>, event_type: &str) -> Result<(), Error> {
    let mut tx = db.begin(soon());
    tx.enqueue(&[event(event_type)]).await?;
    tx.commit().await
}

async fn record(db: &Arc<dyn ComponentDatabase>, event_id: &str) -> bool {
    let mut tx = db.begin(soon());
    let first = tx.record_delivery(event_id).await.unwrap();
    tx.commit().await.unwrap();
    first
}

async fn password(admin: &mut sqlx::PgConnection, role: &str) -> Option<String> {
    sqlx::query_scalar("SELECT rolpassword FROM pg_authid WHERE rolname = $1")
        .bind(role)
        .fetch_one(admin)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_second_application_whose_schema_name_clashes_is_refused_and_changes_nothing() {
    let Some(url) = support::fresh_database().await else { return };
    let first = App::on(&url, "ev-platform", 2, COUNTERS).await.unwrap();
    let stations = first.try_open("stations", std::time::Duration::from_secs(10), &["a.v1"]).await.unwrap();
    let mut tx = stations.begin(soon());
    tx.execute(SET_42, &[]).await.unwrap();
    tx.commit().await.unwrap();
    let mut admin = first.admin().await;
    let role = format!("{}_ev_platform_stations", url.rsplit('/').next().unwrap());
    let before = password(&mut admin, &role).await;

    for (application, component) in [("ev_platform", "stations"), ("ev", "platform-stations")] {
        let second = App::on(&url, application, 2, COUNTERS).await.unwrap();
        let error = second.try_open(component, std::time::Duration::from_secs(10), &[]).await.err();
        let message = format!("{:#}", error.expect("the clash is refused"));
        for name in ["\"ev_platform_stations\"", "\"ev-platform\"", "\"stations\"", application, component] {
            assert!(message.contains(name), "{name} missing from: {message}");
        }
    }

    assert_eq!(counter(&stations).await, 42, "the first application's data is untouched");
    assert_eq!(password(&mut admin, &role).await, before, "and its role's password");
    publish(&stations, "a.v1").await.expect("its event grants are intact");
    let owner: (String, String) =
        sqlx::query_as("SELECT application, component FROM joule.component_databases WHERE schema_name = 'ev_platform_stations'")
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert_eq!(owner, ("ev-platform".to_string(), "stations".to_string()));
    // The first application starts again as before.
    let again = App::on(&url, "ev-platform", 2, COUNTERS).await.unwrap();
    assert_eq!(counter(&again.open("stations").await).await, 42);
}

#[tokio::test]
async fn applications_sharing_a_database_keep_their_own_grants_and_inbox() {
    let Some(url) = support::fresh_database().await else { return };
    let alpha = App::on(&url, "alpha", 2, COUNTERS).await.unwrap();
    let alpha = alpha.try_open("stations", std::time::Duration::from_secs(10), &["a.v1"]).await.unwrap();
    let beta = App::on(&url, "beta", 2, COUNTERS).await.unwrap();
    let beta = beta.try_open("stations", std::time::Duration::from_secs(10), &["b.v1"]).await.unwrap();

    publish(&alpha, "a.v1").await.expect("alpha keeps its grant once beta has started");
    publish(&beta, "b.v1").await.unwrap();
    let refused = publish(&beta, "a.v1").await.unwrap_err();
    assert!(matches!(refused, Error::AccessDenied(_)), "{refused:?}");
    let refused = publish(&alpha, "b.v1").await.unwrap_err();
    assert!(matches!(refused, Error::AccessDenied(_)), "{refused:?}");

    assert!(record(&alpha, "evt-1").await);
    assert!(record(&beta, "evt-1").await, "beta has not handled alpha's event");
    assert!(!record(&alpha, "evt-1").await);
    assert!(!record(&beta, "evt-1").await);
}

#[tokio::test]
async fn rows_from_before_ownership_was_recorded_are_adopted_by_their_application() {
    let Some(url) = support::fresh_database().await else { return };
    let database = url.rsplit('/').next().unwrap().to_string();
    let role = format!("{database}_ev_platform_stations");
    earlier_release(&url, &role).await;

    let owner = App::on(&url, "ev-platform", 2, COUNTERS).await.unwrap();
    let stations = owner.try_open("stations", std::time::Duration::from_secs(10), &["a.v1"]).await.unwrap();
    assert_eq!(counter(&stations).await, 7, "the schema's data is kept");
    assert!(!record(&stations, "evt-old").await, "an event handled before is still recognised");
    publish(&stations, "a.v1").await.unwrap();

    let other = App::on(&url, "ev_platform", 2, COUNTERS).await.unwrap();
    let error = other.try_open("stations", std::time::Duration::from_secs(10), &[]).await.err();
    let message = format!("{:#}", error.expect("the adopted schema has an owner now"));
    assert!(message.contains("\"ev-platform\"") && message.contains("ev_platform_stations"), "{message}");
    assert_eq!(counter(&stations).await, 7);
}

/// What a release before ownership was recorded left: the platform's first four migrations,
/// and application `ev-platform`'s component `stations`, with counter `a` at 7, a grant to
/// publish `a.v1` and event `evt-old` handled, all keyed by the component's name alone.
async fn earlier_release(url: &str, role: &str) {
    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql("CREATE SCHEMA joule; SET search_path = joule").execute(&mut admin).await.unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/postgres");
    let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new(dir)).await.unwrap();
    migrator.migrations = migrator.migrations.iter().filter(|m| m.version <= 4).cloned().collect::<Vec<_>>().into();
    migrator.run(&mut admin).await.unwrap();
    let setup = format!(
        "CREATE ROLE {role} LOGIN;
         CREATE SCHEMA ev_platform_stations AUTHORIZATION {role};
         GRANT USAGE ON SCHEMA joule_api TO {role};
         GRANT EXECUTE ON FUNCTION joule_api.publish_all(TEXT[], TEXT[], JSONB[], TIMESTAMPTZ[], TEXT[], TEXT[]) TO {role};
         GRANT EXECUTE ON FUNCTION joule_api.record_delivery(TEXT) TO {role};
         INSERT INTO component_databases (component, schema_name, role_name) VALUES ('stations', 'ev_platform_stations', '{role}');
         INSERT INTO event_grants (component, event_type) VALUES ('stations', 'a.v1');
         INSERT INTO inbox (consumer, event_id) VALUES ('stations', 'evt-old');"
    );
    sqlx::raw_sql(&setup).execute(&mut admin).await.unwrap();
    // The component's own migrations ran as its role, in its schema.
    let options = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url).unwrap();
    let options = options.username(role).options([("search_path", "ev_platform_stations")]);
    let mut component = sqlx::PgConnection::connect_with(&options).await.unwrap();
    let components = tempfile::tempdir().unwrap();
    std::fs::write(components.path().join("0001_init.sql"), COUNTERS).unwrap();
    sqlx::migrate::Migrator::new(components.path()).await.unwrap().run(&mut component).await.unwrap();
    sqlx::raw_sql("UPDATE counters SET value = 7").execute(&mut component).await.unwrap();
}
