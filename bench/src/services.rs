//! The services a production deployment runs with, for one benchmark: a fresh Postgres
//! database, and a queue namespace and key prefix of its own on RabbitMQ and Redis, removed
//! afterwards.

use crate::database::FreshDatabase;
use crate::events;

pub struct Services {
    pub database: FreshDatabase,
    pub amqp_url: String,
    pub redis_url: String,
    pub namespace: String,
}

impl Services {
    /// From `JOULE_BENCH_AMQP_URL` and `JOULE_BENCH_REDIS_URL` (default: the local servers).
    pub fn create() -> anyhow::Result<Self> {
        let amqp_url =
            std::env::var("JOULE_BENCH_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
        let redis_url = std::env::var("JOULE_BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let namespace = format!("jbench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        Ok(Self { database: FreshDatabase::create()?, amqp_url, redis_url, namespace })
    }

    /// A host's environment for them.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", self.database.url.clone()),
            ("AMQP_URL", self.amqp_url.clone()),
            ("REDIS_URL", self.redis_url.clone()),
            ("JOULE_REDIS_PREFIX", self.namespace.clone()),
            ("JOULE_QUEUE_NAMESPACE", self.namespace.clone()),
            ("JOULE_EVENTS_EXCHANGE", format!("{}.events", self.namespace)),
        ]
    }

    /// Removes the queues and keys; the database goes when dropped.
    pub fn remove(self) -> anyhow::Result<()> {
        events::delete_namespace(&self.amqp_url, &self.redis_url, &self.namespace)
    }
}
