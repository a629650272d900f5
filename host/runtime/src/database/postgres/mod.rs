//! The production database backend: Postgres through sqlx.
//!
//! Each component gets its own schema and its own login role with rights on that schema
//! alone, and its own connection pool logged in as that role. Because the session user *is*
//! the component, no SQL the component runs can reach further: `SET ROLE` and
//! `SET SESSION AUTHORIZATION` are refused, `RESET ROLE` returns to the component itself,
//! and `SET search_path` names schemas it has no rights on.

mod bind;
mod connections;
mod listen;
mod names;
mod outbox;
mod owners;
mod provision;
mod session;
mod timers;
mod transaction;
mod values;

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_trait::async_trait;
use sqlx::ConnectOptions as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::sync::Notify;

use super::{ComponentDatabase, DatabaseBackend, OpenOptions, Transaction};
use crate::background::Background;
use crate::events::Outbox;
use crate::timers::TimerStore;
use connections::Connections;
use names::Names;
use transaction::PgTransaction;

/// The platform's own schema: bookkeeping no component can read or write.
pub const PLATFORM_SCHEMA: &str = "joule";

#[derive(Debug, Clone)]
pub struct PostgresSettings {
    /// Connections each component's pool may open.
    pub pool_size: u32,
    /// Derives the component roles' passwords; defaults to the password in the URL.
    pub role_secret: Option<String>,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        Self { pool_size: 10, role_secret: None }
    }
}

pub struct PostgresBackend {
    admin: PgPool,
    options: PgConnectOptions,
    database: String,
    application: String,
    settings: PostgresSettings,
}

impl PostgresBackend {
    /// Connects with `url` (from `DATABASE_URL`) and prepares the platform's schema.
    pub async fn connect(url: &str, application: &str, mut settings: PostgresSettings) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| anyhow::anyhow!("DATABASE_URL is not a valid postgres:// URL"))?
            .disable_statement_logging();
        let database = options.get_database().unwrap_or(options.get_username()).to_string();
        let location = format!("{}:{}/{database}", options.get_host(), options.get_port());
        if settings.role_secret.is_none() {
            settings.role_secret = url_password(url);
        }
        let admin = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone().application_name("joule").options([("search_path", PLATFORM_SCHEMA)]))
            .await
            .with_context(|| format!("failed to connect to Postgres at {location} (DATABASE_URL)"))?;
        provision::platform(&admin)
            .await
            .with_context(|| format!("failed to prepare the platform schema in {location}"))?;
        Ok(Self { admin, options, database, application: application.to_string(), settings })
    }

    /// The platform's own pool, logged in as the `DATABASE_URL` role.
    pub fn platform_pool(&self) -> &PgPool {
        &self.admin
    }
}

/// The password in a `postgres://user:password@...` URL, if any.
fn url_password(url: &str) -> Option<String> {
    let authority = url.split_once("://")?.1.split(['/', '?']).next()?;
    let credentials = authority.rsplit_once('@')?.0;
    let password = credentials.split_once(':')?.1;
    (!password.is_empty()).then(|| password.to_string())
}

#[async_trait]
impl DatabaseBackend for PostgresBackend {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn open(&self, component: &str, open: &OpenOptions<'_>) -> anyhow::Result<Arc<dyn ComponentDatabase>> {
        let names = Names::new(&self.database, &self.application, component);
        let password = names.password(self.settings.role_secret.as_deref());
        provision::component(&self.admin, &self.database, &self.application, &names, password.as_deref(), open.publishes)
            .await
            .with_context(|| format!("failed to provision schema {:?} and role {:?}", names.schema, names.role))?;
        let mut options = self
            .options
            .clone()
            .username(&names.role)
            .application_name(&format!("joule:{component}"))
            .options([
                ("search_path", names.schema.clone()),
                ("statement_timeout", open.timeout.as_millis().to_string()),
                // The inbox's batch quotes the event id as a literal, which relies on it.
                ("standard_conforming_strings", "on".to_string()),
            ]);
        if let Some(password) = &password {
            options = options.password(password);
        }
        let logged_in = || format!("failed to log in as the component's role {:?}", names.role);
        if let Some(dir) = open.migrations {
            let migrator = super::migrations(dir).await?;
            let migrating = PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await;
            let migrating = migrating.with_context(logged_in)?;
            migrator.run(&migrating).await.with_context(|| super::migration_failed(dir, component))?;
            migrating.close().await;
        }
        // Read-only unless a transaction says otherwise, so that a read run alone cannot write.
        let options = options.options([("default_transaction_read_only", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(self.settings.pool_size)
            .min_connections(1)
            // No ping before each use: the first statement finds a dead connection and takes another.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .with_context(logged_in)?;
        Ok(Arc::new(PostgresDatabase { connections: Arc::new(Connections::new(pool, self.admin.clone())) }))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.admin).await?;
        Ok(())
    }

    fn outbox(&self, signal: Arc<Notify>, background: &Background) -> Arc<dyn Outbox> {
        Arc::new(outbox::PostgresOutbox::new(self.admin.clone(), signal, background))
    }

    fn timers(&self, signal: Arc<Notify>, background: &Background) -> Arc<dyn TimerStore> {
        Arc::new(timers::PostgresTimers::new(self.admin.clone(), signal, background))
    }
}

struct PostgresDatabase {
    connections: Arc<Connections>,
}

impl ComponentDatabase for PostgresDatabase {
    fn begin(&self, deadline: Instant) -> Box<dyn Transaction> {
        Box::new(PgTransaction::new(self.connections.clone(), deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_password_from_the_url() {
        assert_eq!(url_password("postgres://joule:s3cr@t@db:5432/ev").as_deref(), Some("s3cr@t"));
        assert_eq!(url_password("postgres://postgres@127.0.0.1/ev"), None);
        assert_eq!(url_password("postgres://127.0.0.1/ev"), None);
    }
}
