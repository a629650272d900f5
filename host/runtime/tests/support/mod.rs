//! Real services for capability tests: a fresh Postgres database per test, and Redis.
//!
//! The URLs come from `JOULE_TEST_DATABASE_URL` and `JOULE_TEST_REDIS_URL` (see `scripts/test`).
//! Without them a test says it is skipped, when the run says it is the embedded one
//! (`JOULE_TEST_BACKENDS=embedded`) or outside CI; under `CI=true` it fails instead.

#![allow(dead_code, reason = "each test file uses part of this")]

use std::str::FromStr as _;

use sqlx::ConnectOptions as _;
use sqlx::Executor as _;
use sqlx::postgres::PgConnectOptions;

fn service_url(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("JOULE_TEST_BACKENDS").is_ok_and(|b| b == "embedded") => None,
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("{variable} must be set in CI; the capability tests run against the real service")
        }
        _ => {
            eprintln!("skipped: {variable} is not set (scripts/test sets it)");
            None
        }
    }
}

/// A URL of a new, empty database on the test Postgres.
pub async fn fresh_database() -> Option<String> {
    let base = service_url("JOULE_TEST_DATABASE_URL")?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let name = format!("{PREFIX}{now}_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let mut admin = PgConnectOptions::from_str(&base).unwrap().connect().await.expect("connect to the test Postgres");
    drop_stale(&mut admin, now).await;
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    let url = match base.rsplit_once('/') {
        Some((server, _)) if server.contains("://") && server.split("://").nth(1).is_some_and(|s| !s.is_empty()) => {
            format!("{server}/{name}")
        }
        _ => format!("{base}/{name}"),
    };
    Some(url)
}

/// Every test database's name starts with this, then the second it was made.
const PREFIX: &str = "joule_rt_";

/// Drops the test databases made over an hour ago, and the roles the host made for them
/// (named after the database), so that runs leave nothing behind on a shared server however
/// they ended. Names without a time are from before names had one, and are dropped too.
async fn drop_stale(admin: &mut sqlx::PgConnection, now: u64) {
    let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'joule\\_rt\\_%'")
        .fetch_all(&mut *admin)
        .await
        .expect("list the test databases");
    for name in names {
        let made = name[PREFIX.len()..].split_once('_').and_then(|(secs, _)| secs.parse::<u64>().ok());
        if made.is_some_and(|made| now.saturating_sub(made) < 3600) {
            continue;
        }
        // Another run may be dropping the same one: failures are left to the next sweep.
        let _ = admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
        let roles: Vec<String> = sqlx::query_scalar("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)")
            .bind(format!("{name}_"))
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
        for role in roles {
            let _ = admin.execute(format!("DROP ROLE IF EXISTS \"{role}\"").as_str()).await;
        }
    }
}

pub fn redis_url() -> Option<String> {
    service_url("JOULE_TEST_REDIS_URL")
}

pub fn amqp_url() -> Option<String> {
    service_url("JOULE_TEST_AMQP_URL")
}

/// A deadline far enough away for any test statement.
pub fn soon() -> std::time::Instant {
    std::time::Instant::now() + std::time::Duration::from_secs(30)
}

/// The value of counter `a` in a component database with the tests' `counters` table.
pub async fn counter(db: &std::sync::Arc<dyn joule_runtime::database::ComponentDatabase>) -> i64 {
    let rows = db.begin(soon()).query("SELECT value FROM counters WHERE name = 'a'", &[]).await.unwrap();
    match rows.rows[0][0] {
        joule_world::database::Value::Int(v) => v,
        ref other => panic!("unexpected {other:?}"),
    }
}
