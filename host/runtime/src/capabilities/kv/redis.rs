//! The production key-value backend: Redis through a `ConnectionManager`, which reconnects
//! on its own. Every key is `<prefix>:<application>:<component>:<key>`; the host writes
//! the prefix, so a component can name only keys in its own space.

use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use joule_world::kv::Error;
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::KeyValueBackend;

pub struct RedisKeyValue {
    connection: ConnectionManager,
    /// Namespaces this deployment's keys, so several can share one Redis.
    prefix: String,
}

impl RedisKeyValue {
    /// Connects with `url` (from `REDIS_URL`); fails if Redis cannot be reached now.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).map_err(|_| anyhow::anyhow!("REDIS_URL is not a valid redis:// URL"))?;
        let location = client.get_connection_info().addr().to_string();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .with_context(|| format!("failed to connect to Redis at {location} (REDIS_URL)"))?;
        Ok(Self { connection, prefix: prefix.to_string() })
    }

    fn key(&self, space: &str, key: &str) -> String {
        format!("{}:{space}:{key}", self.prefix)
    }
}

fn unavailable(error: redis::RedisError) -> Error {
    Error::Unavailable(format!("Redis failed: {error}"))
}

#[async_trait]
impl KeyValueBackend for RedisKeyValue {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, space: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.connection.clone().get(self.key(space, key)).await.map_err(unavailable)
    }

    async fn set(&self, space: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), Error> {
        let mut connection = self.connection.clone();
        let key = self.key(space, key);
        match ttl {
            // PX keeps sub-second precision; a plain SET also clears an earlier time to live.
            Some(ttl) => connection.pset_ex(key, value, u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)).await,
            None => connection.set(key, value).await,
        }
        .map_err(unavailable)
    }

    async fn delete(&self, space: &str, key: &str) -> Result<bool, Error> {
        let removed: u64 = self.connection.clone().del(self.key(space, key)).await.map_err(unavailable)?;
        Ok(removed > 0)
    }

    async fn exists(&self, space: &str, key: &str) -> Result<bool, Error> {
        self.connection.clone().exists(self.key(space, key)).await.map_err(unavailable)
    }

    async fn incr(&self, space: &str, key: &str, delta: i64) -> Result<i64, Error> {
        self.connection.clone().incr(self.key(space, key), delta).await.map_err(|e| {
            // Redis refuses INCRBY on a value that is not an integer, or that would overflow.
            if matches!(e.kind(), redis::ErrorKind::Server(_)) {
                Error::NotAnInteger(format!("cannot increment {key:?}: {}", e.detail().unwrap_or("not an integer")))
            } else {
                unavailable(e)
            }
        })
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let _: String = redis::cmd("PING").query_async(&mut self.connection.clone()).await?;
        Ok(())
    }
}
