//! Where a host keeps its state: a directory, and when the suite runs against the real
//! services, a Postgres database and a Redis key prefix of its own. Dropping it removes all three.

use std::path::Path;
use std::str::FromStr as _;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Executor as _, Row as _};

/// The services the suite runs against, from `JOULE_TEST_DATABASE_URL`,
/// `JOULE_TEST_REDIS_URL` and `JOULE_TEST_AMQP_URL`.
#[derive(Debug, Clone)]
pub struct Services {
    pub database_url: String,
    pub redis_url: String,
    pub amqp_url: String,
}

impl Services {
    /// `None` runs the suite on the embedded backends.
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|u| !u.is_empty());
        match (var("JOULE_TEST_DATABASE_URL"), var("JOULE_TEST_REDIS_URL"), var("JOULE_TEST_AMQP_URL")) {
            (Some(database_url), Some(redis_url), Some(amqp_url)) => Some(Self { database_url, redis_url, amqp_url }),
            (None, None, None) => None,
            _ => panic!("set all of JOULE_TEST_DATABASE_URL, JOULE_TEST_REDIS_URL and JOULE_TEST_AMQP_URL, or none"),
        }
    }
}

/// Whether this run uses Postgres and Redis rather than the embedded backends.
pub fn real_backends() -> bool {
    Services::from_env().is_some()
}

pub struct State {
    dir: tempfile::TempDir,
    services: Option<Services>,
    database: String,
    redis_prefix: String,
    /// Whether dropping this state removes the database and keys (a replica's does not).
    owns_services: bool,
    /// The first part of queue names; embedded, each state has its own broker anyway.
    queue_namespace: String,
}

impl State {
    pub fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let services = Services::from_env();
        let queue_namespace = if services.is_some() { format!("jt{}", &id[..12]) } else { "joule".into() };
        let state = Self {
            dir: tempfile::tempdir().expect("temp dir"),
            services,
            database: format!("joule_bb_{id}"),
            redis_prefix: format!("joule-bb-{id}"),
            owns_services: true,
            queue_namespace,
        };
        if let Some(services) = &state.services {
            let statement = format!("CREATE DATABASE {}", state.database);
            let base = services.database_url.clone();
            block_on(async move { admin_execute(&base, vec![statement]).await });
        }
        state
    }

    /// Another replica's state: its own directory, the same database and key prefix.
    pub fn replica(&self) -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            services: self.services.clone(),
            database: self.database.clone(),
            redis_prefix: self.redis_prefix.clone(),
            owns_services: false,
            queue_namespace: self.queue_namespace.clone(),
        }
    }

    /// The queue a component of `application` consumes with this state.
    pub fn queue(&self, application: &str, component: &str) -> String {
        format!("{}.{application}.{component}", self.queue_namespace)
    }

    /// The events exchange of this state.
    pub fn exchange(&self) -> String {
        match self.services {
            Some(_) => format!("{}.events", self.queue_namespace),
            None => "joule.events".into(),
        }
    }

    pub fn services(&self) -> Option<&Services> {
        self.services.as_ref()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The environment that points a host at this state's services.
    pub fn env(&self) -> Vec<(String, String)> {
        let Some(services) = &self.services else { return Vec::new() };
        vec![
            ("DATABASE_URL".into(), database_url(&services.database_url, &self.database)),
            ("REDIS_URL".into(), services.redis_url.clone()),
            ("JOULE_REDIS_PREFIX".into(), self.redis_prefix.clone()),
            ("AMQP_URL".into(), services.amqp_url.clone()),
            ("JOULE_EVENTS_EXCHANGE".into(), self.exchange()),
            ("JOULE_QUEUE_NAMESPACE".into(), self.queue_namespace.clone()),
        ]
    }

    /// This state's database, for tests that inspect it directly.
    pub fn database_url(&self) -> Option<String> {
        self.services.as_ref().map(|s| database_url(&s.database_url, &self.database))
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for State {
    fn drop(&mut self) {
        let Some(services) = self.services.clone().filter(|_| self.owns_services) else { return };
        let (database, prefix) = (self.database.clone(), self.redis_prefix.clone());
        let (namespace, exchange) = (self.queue_namespace.clone(), self.exchange());
        block_on(async move {
            let roles = role_names(&services.database_url, &database).await;
            let mut statements = vec![format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")];
            statements.extend(roles.iter().map(|role| format!("DROP ROLE IF EXISTS \"{role}\"")));
            admin_execute(&services.database_url, statements).await;
            delete_keys(&services.redis_url, &prefix).await;
            crate::broker::delete_namespace(&services.amqp_url, &namespace, &exchange).await;
        });
    }
}

/// The server part of `base` with `database` as its path.
fn database_url(base: &str, database: &str) -> String {
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let server = rest.split(['/', '?']).next().unwrap_or(rest);
    format!("{scheme}://{server}/{database}")
}

/// Runs a future to completion on a thread of its own, from sync or async code alike.
fn block_on<F: Future + Send + 'static>(future: F) -> F::Output
where
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(future)
    })
    .join()
    .expect("service setup thread")
}

async fn admin_execute(base: &str, statements: Vec<String>) {
    let mut admin = PgConnectOptions::from_str(base).expect("JOULE_TEST_DATABASE_URL").connect().await.expect("connect");
    for statement in statements {
        admin.execute(statement.as_str()).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

/// The component roles the host created for `database`; their names start with it.
async fn role_names(base: &str, database: &str) -> Vec<String> {
    let mut admin = PgConnectOptions::from_str(base).expect("JOULE_TEST_DATABASE_URL").connect().await.expect("connect");
    sqlx::query("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)")
        .bind(format!("{database}_"))
        .fetch_all(&mut admin)
        .await
        .expect("list roles")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

async fn delete_keys(url: &str, prefix: &str) {
    let client = redis::Client::open(url).expect("JOULE_TEST_REDIS_URL");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connect to Redis");
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut connection).await.unwrap_or_default();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL").arg(keys).query_async(&mut connection).await.unwrap_or(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_keep_the_server_and_credentials() {
        assert_eq!(database_url("postgres://u:p@h:5432/postgres", "x"), "postgres://u:p@h:5432/x");
        assert_eq!(database_url("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(database_url("postgres://u@h/db?sslmode=disable", "x"), "postgres://u@h/x");
    }
}
