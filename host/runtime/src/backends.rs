//! The backends a runtime runs on: each one a service when its URL is set, else embedded.

use std::sync::Arc;

use crate::background::Background;
use crate::database::DatabaseBackend;
use crate::database::postgres::{PostgresBackend, PostgresSettings};
use crate::database::sqlite::SqliteBackend;
use crate::capabilities::email::MailBackend;
use crate::capabilities::email::mail_drop::MailDrop;
use crate::capabilities::email::smtp::SmtpMail;
use crate::capabilities::kv::KeyValueBackend;
use crate::capabilities::kv::embedded::EmbeddedKeyValue;
use crate::capabilities::kv::redis::RedisKeyValue;
use crate::embedded::{LocalStore, StateDir};
use crate::events::Broker;
use crate::events::broker::embedded::EmbeddedBroker;
use crate::events::broker::rabbitmq::RabbitBroker;
use crate::registry::store::{PostgresVersions, SqliteVersions, VersionStore};

/// The backends capabilities run on.
pub struct Backends {
    pub database: Arc<dyn DatabaseBackend>,
    /// The component registry's versions, in the platform database.
    pub versions: Arc<dyn VersionStore>,
    pub kv: Arc<dyn KeyValueBackend>,
    pub broker: Arc<dyn Broker>,
    pub mail: Arc<dyn MailBackend>,
}

/// Which backends to use: a URL selects the service, none the embedded default.
/// A URL that is set but cannot be reached stops startup; it never falls back.
#[derive(Debug, Clone)]
pub struct BackendSettings {
    /// `DATABASE_URL`: Postgres, else SQLite files in the state directory.
    pub database_url: Option<String>,
    /// `REDIS_URL`: Redis, else the embedded store in the state directory.
    pub redis_url: Option<String>,
    /// `AMQP_URL`: RabbitMQ, else the embedded broker in the state directory.
    pub amqp_url: Option<String>,
    /// `SMTP_URL`: an SMTP server for email, else the mail drop in the state directory.
    pub smtp_url: Option<String>,
    /// The topic exchange events are published to.
    pub events_exchange: String,
    /// The first part of every queue name, so deployments can share one broker.
    pub queue_namespace: String,
    pub postgres: PostgresSettings,
    /// The first part of every Redis key, so deployments can share one Redis.
    pub redis_prefix: String,
}

impl Default for BackendSettings {
    /// Every backend embedded.
    fn default() -> Self {
        Self {
            database_url: None,
            redis_url: None,
            amqp_url: None,
            smtp_url: None,
            events_exchange: DEFAULT_EVENTS_EXCHANGE.into(),
            queue_namespace: DEFAULT_QUEUE_NAMESPACE.into(),
            postgres: PostgresSettings::default(),
            redis_prefix: "joule".into(),
        }
    }
}

/// The default name of the events exchange.
pub const DEFAULT_EVENTS_EXCHANGE: &str = "joule.events";
/// The default first part of queue names.
pub const DEFAULT_QUEUE_NAMESPACE: &str = "joule";

impl Backends {
    pub(crate) async fn select(
        settings: &BackendSettings,
        state: &StateDir,
        application: &str,
        background: &Background,
    ) -> anyhow::Result<Self> {
        // The local store is opened only if an embedded backend needs it.
        let mut local = None;
        let mut local_store = async || -> anyhow::Result<LocalStore> {
            if local.is_none() {
                local = Some(LocalStore::open(state.path()).await?);
            }
            Ok(local.clone().expect("just opened"))
        };
        let (database, versions): (Arc<dyn DatabaseBackend>, Arc<dyn VersionStore>) = match &settings.database_url {
            Some(url) => {
                let postgres = PostgresBackend::connect(url, application, settings.postgres.clone()).await?;
                let versions = Arc::new(PostgresVersions::new(postgres.platform_pool().clone(), application));
                (Arc::new(postgres), versions)
            }
            None => {
                let versions = Arc::new(SqliteVersions::new(local_store().await?, application));
                (Arc::new(SqliteBackend::new(state.databases())), versions)
            }
        };
        let kv: Arc<dyn KeyValueBackend> = match &settings.redis_url {
            Some(url) => Arc::new(RedisKeyValue::connect(url, &settings.redis_prefix).await?),
            None => Arc::new(EmbeddedKeyValue::new(local_store().await?, background)),
        };
        let broker: Arc<dyn Broker> = match &settings.amqp_url {
            Some(url) => Arc::new(RabbitBroker::connect(url, &settings.events_exchange).await?),
            None => Arc::new(EmbeddedBroker::open(local_store().await?).await?),
        };
        let mail: Arc<dyn MailBackend> = match &settings.smtp_url {
            Some(url) => Arc::new(SmtpMail::from_url(url)?),
            None => Arc::new(MailDrop::open(&state.mail())?),
        };
        Ok(Self { database, versions, kv, broker, mail })
    }
}
