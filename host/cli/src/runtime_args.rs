//! What every command that starts the runtime takes: the manifest, the state directory and
//! the backends.

use std::path::{Path, PathBuf};

use joule_runtime::database::postgres::PostgresSettings;
use joule_runtime::{BackendSettings, RuntimeOptions};

#[derive(clap::Args)]
pub struct RuntimeArgs {
    #[command(flatten)]
    pub location: LocationArgs,
    /// Compile every component from scratch instead of using the on-disk cache.
    #[arg(long)]
    pub no_compile_cache: bool,
    /// What the instance pool's idle slots may keep resident, all together: the pages guests
    /// wrote, kept mapped so the next invocation in a slot needs no page faults.
    #[arg(long, default_value = "256MiB", env = "JOULE_POOL_RESIDENT_BUDGET")]
    pub pool_resident_budget: bytesize::ByteSize,
    /// Postgres for the components' databases; without it, SQLite files in the state directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Redis for the key-value store; without it, the embedded store in the state directory.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Postgres connections each component's pool may open.
    #[arg(long, default_value_t = 10, env = "JOULE_DATABASE_POOL_SIZE")]
    pub database_pool_size: u32,
    /// Secret the component roles' Postgres passwords are derived from (default: DATABASE_URL's password).
    #[arg(long, env = "JOULE_DATABASE_ROLE_SECRET", hide_env_values = true)]
    pub database_role_secret: Option<String>,
    /// First part of every Redis key, so several deployments can share one Redis.
    #[arg(long, default_value = "joule", env = "JOULE_REDIS_PREFIX")]
    pub redis_prefix: String,
    /// RabbitMQ for events; without it, the embedded broker in the state directory.
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    pub amqp_url: Option<String>,
    /// SMTP server for email, such as smtp://host:25, smtp://user:pass@host:587?tls=required or
    /// smtps://host:465; without it, each message is written as an .eml file in the state directory.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The topic exchange events are published to.
    #[arg(long, default_value = joule_runtime::DEFAULT_EVENTS_EXCHANGE, env = "JOULE_EVENTS_EXCHANGE")]
    pub events_exchange: String,
    /// The first part of every queue name, so several deployments can share one broker.
    #[arg(long, default_value = joule_runtime::DEFAULT_QUEUE_NAMESPACE, env = "JOULE_QUEUE_NAMESPACE")]
    pub queue_namespace: String,
}

/// Where the application is: its manifest and its state directory.
#[derive(clap::Args)]
pub struct LocationArgs {
    /// The application manifest.
    #[arg(long, short = 'f', default_value = "spin.toml", env = "JOULE_MANIFEST")]
    pub manifest: PathBuf,
    /// Where embedded state, compiled components and the development issuer's key are kept
    /// (default: `.joule` beside the manifest).
    #[arg(long, env = "JOULE_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
}

impl LocationArgs {
    pub fn state_dir(&self) -> PathBuf {
        let beside = self.manifest.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
        self.state_dir.clone().unwrap_or_else(|| beside.join(".joule"))
    }
}

impl RuntimeArgs {
    pub fn options(&self) -> RuntimeOptions {
        let state_dir = self.location.state_dir();
        let backends = BackendSettings {
            database_url: set(&self.database_url),
            redis_url: set(&self.redis_url),
            amqp_url: set(&self.amqp_url),
            smtp_url: set(&self.smtp_url),
            events_exchange: self.events_exchange.clone(),
            queue_namespace: self.queue_namespace.clone(),
            postgres: PostgresSettings {
                pool_size: self.database_pool_size,
                role_secret: set(&self.database_role_secret),
            },
            redis_prefix: self.redis_prefix.clone(),
        };
        RuntimeOptions {
            state_dir,
            compile_cache: !self.no_compile_cache,
            pool_resident_budget: self.pool_resident_budget.as_u64(),
            backends,
        }
    }
}

/// An empty variable counts as unset.
fn set(value: &Option<String>) -> Option<String> {
    value.clone().filter(|v| !v.trim().is_empty())
}
