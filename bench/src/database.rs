//! A new database on the benchmark's Postgres for each measurement, dropped afterwards with
//! the roles the host made for its components, so repeated runs leave nothing behind.

use std::str::FromStr as _;

use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions as _, Executor as _, Row as _};

pub struct FreshDatabase {
    /// The server's URL with an existing database, to create and drop from.
    admin_url: String,
    name: String,
    /// This database's URL.
    pub url: String,
}

impl FreshDatabase {
    /// Creates it on `JOULE_BENCH_DATABASE_URL`'s server (default: the local one).
    pub fn create() -> anyhow::Result<Self> {
        let admin_url = std::env::var("JOULE_BENCH_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("joule_bench_{}", uuid::Uuid::new_v4().simple());
        block_on(async {
            let mut admin = connect(&admin_url).await?;
            admin.execute(format!("CREATE DATABASE {name}").as_str()).await?;
            anyhow::Ok(())
        })
        .with_context(|| format!("failed to create a database on {admin_url} (JOULE_BENCH_DATABASE_URL)"))?;
        let (server, _) = admin_url.rsplit_once('/').context("the URL names a database")?;
        let url = format!("{server}/{name}");
        Ok(Self { admin_url, name, url })
    }

    async fn drop_with_roles(&self) -> anyhow::Result<()> {
        let mut admin = connect(&self.admin_url).await?;
        // Ends the sessions of a host that did not close its pool in time.
        admin.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str()).await?;
        // The host names each component's role after the database: `<database>_<role>`.
        let roles = sqlx::query("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)")
            .bind(format!("{}_", self.name))
            .fetch_all(&mut admin)
            .await?;
        for role in roles {
            let role: String = role.get(0);
            admin.execute(format!("DROP ROLE IF EXISTS \"{role}\"").as_str()).await?;
        }
        Ok(())
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Err(e) = block_on(self.drop_with_roles()) {
            eprintln!("warning: could not drop the benchmark database {} and its roles: {e:#}", self.name);
        }
    }
}

async fn connect(url: &str) -> anyhow::Result<PgConnection> {
    Ok(PgConnectOptions::from_str(url)?.connect().await?)
}

fn block_on<T>(future: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(future)
}
