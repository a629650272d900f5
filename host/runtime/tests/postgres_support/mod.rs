//! Component databases on a fresh Postgres database, and a superuser connection to look at
//! them from outside, for the Postgres capability tests.

#![allow(dead_code, reason = "each test file uses part of this")]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use joule_runtime::database::postgres::{PostgresBackend, PostgresSettings};
use joule_runtime::database::{ComponentDatabase, DatabaseBackend, OpenOptions};
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// The tests' component schema: a `counters` table with counter `a` at 0.
pub const COUNTERS: &str = "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters VALUES ('a', 0);";

/// One application's backend on a test database, with the migrations its components get.
pub struct App {
    pub url: String,
    pub backend: PostgresBackend,
    migrations: tempfile::TempDir,
}

impl App {
    /// The application `name` on a fresh database; `None` when the tests are skipped.
    pub async fn fresh(name: &str, pool_size: u32) -> Option<Self> {
        let url = super::support::fresh_database().await?;
        Some(Self::on(&url, name, pool_size, COUNTERS).await.expect("connect the test application"))
    }

    /// The application `name` on the database at `url`, whose components apply `schema`.
    pub async fn on(url: &str, name: &str, pool_size: u32, schema: &str) -> anyhow::Result<Self> {
        let settings = PostgresSettings { pool_size, role_secret: Some(format!("secret of {name}")) };
        let backend = PostgresBackend::connect(url, name, settings).await?;
        let migrations = tempfile::tempdir().unwrap();
        std::fs::write(migrations.path().join("0001_init.sql"), schema).unwrap();
        Ok(Self { url: url.to_string(), backend, migrations })
    }

    pub async fn open(&self, component: &str) -> Arc<dyn ComponentDatabase> {
        self.try_open(component, Duration::from_secs(10), &[]).await.unwrap()
    }

    pub async fn try_open(
        &self,
        component: &str,
        timeout: Duration,
        publishes: &[&str],
    ) -> anyhow::Result<Arc<dyn ComponentDatabase>> {
        let publishes: BTreeSet<String> = publishes.iter().map(|p| p.to_string()).collect();
        let options = OpenOptions { migrations: Some(self.migrations.path()), timeout, publishes: &publishes };
        self.backend.open(component, &options).await
    }

    /// A superuser connection to the application's database.
    pub async fn admin(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.expect("connect as the test superuser")
    }
}

/// A fresh database owned by a new role that may create roles but is no superuser: the least
/// a `DATABASE_URL` needs.
pub async fn fresh_database_of_an_owner() -> Option<String> {
    let url = super::support::fresh_database().await?;
    let options = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(&url).unwrap();
    let (user, database) = (options.get_username().to_string(), options.get_database().unwrap().to_string());
    let owner = format!("owner_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&url).await.unwrap();
    let setup = format!("CREATE ROLE {owner} LOGIN CREATEROLE; ALTER DATABASE {database} OWNER TO {owner}");
    sqlx::raw_sql(&setup).execute(&mut admin).await.unwrap();
    Some(url.replacen(&format!("//{user}@"), &format!("//{owner}@"), 1))
}

/// The backend pids of the component's sessions, and what each is running.
pub async fn sessions(admin: &mut PgConnection, component: &str) -> Vec<(i32, String, String)> {
    sqlx::query_as(
        "SELECT pid, coalesce(state, ''), query FROM pg_stat_activity
         WHERE application_name = $1 AND datname = current_database() ORDER BY pid",
    )
    .bind(format!("joule:{component}"))
    .fetch_all(admin)
    .await
    .unwrap()
}
