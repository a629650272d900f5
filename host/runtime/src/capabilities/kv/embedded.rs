//! The embedded key-value backend: a table in the platform's local store.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use joule_world::kv::Error;
use sqlx::Row as _;

use super::KeyValueBackend;
use crate::background::Background;
use crate::embedded::LocalStore;

/// How often expired entries are swept; reads already ignore them.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

const SELECT_ENTRY: &str = "SELECT value, expires_at FROM kv_entries WHERE space = $1 AND key = $2";

/// Writes a value and its expiry, replacing what was there.
const UPSERT_ENTRY: &str = "INSERT INTO kv_entries (space, key, value, expires_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (space, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at";

pub struct EmbeddedKeyValue {
    store: LocalStore,
}

impl EmbeddedKeyValue {
    /// Opens the backend and starts sweeping expired entries in the background.
    pub fn new(store: LocalStore, background: &Background) -> Self {
        let writer = store.file().writer.clone();
        background.spawn_cancellable("key-value sweeper", async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            loop {
                tick.tick().await;
                let swept = sqlx::query("DELETE FROM kv_entries WHERE expires_at <= $1")
                    .bind(now_ms())
                    .execute(&writer)
                    .await;
                if let Err(e) = swept {
                    tracing::debug!(error = %e, "key-value sweep skipped");
                }
            }
        });
        Self { store }
    }

    async fn live_entry(&self, space: &str, key: &str) -> Result<Option<(Vec<u8>, Option<i64>)>, Error> {
        let row = sqlx::query(SELECT_ENTRY)
            .bind(space)
            .bind(key)
            .fetch_optional(&self.store.file().readers)
            .await
            .map_err(unavailable)?;
        Ok(row.and_then(|row| {
            let expires_at: Option<i64> = row.get(1);
            is_live(expires_at).then(|| (row.get(0), expires_at))
        }))
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn is_live(expires_at: Option<i64>) -> bool {
    expires_at.is_none_or(|at| at > now_ms())
}

fn unavailable(error: sqlx::Error) -> Error {
    Error::Unavailable(format!("the embedded key-value store failed: {error}"))
}

#[async_trait]
impl KeyValueBackend for EmbeddedKeyValue {
    fn name(&self) -> &'static str {
        "embedded"
    }

    async fn get(&self, space: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.live_entry(space, key).await?.map(|(value, _)| value))
    }

    async fn set(&self, space: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), Error> {
        let expires_at = ttl.map(|ttl| now_ms().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)));
        sqlx::query(UPSERT_ENTRY)
        .bind(space)
        .bind(key)
        .bind(value)
        .bind(expires_at)
        .execute(&self.store.file().writer)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn delete(&self, space: &str, key: &str) -> Result<bool, Error> {
        let deleted = sqlx::query("DELETE FROM kv_entries WHERE space = $1 AND key = $2 RETURNING expires_at")
            .bind(space)
            .bind(key)
            .fetch_optional(&self.store.file().writer)
            .await
            .map_err(unavailable)?;
        Ok(deleted.is_some_and(|row| is_live(row.get(0))))
    }

    async fn exists(&self, space: &str, key: &str) -> Result<bool, Error> {
        Ok(self.live_entry(space, key).await?.is_some())
    }

    async fn incr(&self, space: &str, key: &str, delta: i64) -> Result<i64, Error> {
        let mut transaction = self.store.file().writer.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        let current = sqlx::query(SELECT_ENTRY)
            .bind(space)
            .bind(key)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(unavailable)?
            .map(|row| (row.get::<Vec<u8>, _>(0), row.get::<Option<i64>, _>(1)))
            .filter(|(_, expires_at)| is_live(*expires_at));
        let (value, expires_at) = match current {
            None => (0, None),
            Some((bytes, expires_at)) => {
                let value = std::str::from_utf8(&bytes).ok().and_then(|text| text.parse::<i64>().ok());
                let value = value.ok_or_else(|| Error::NotAnInteger(format!("the value of {key:?} is not an integer")))?;
                (value, expires_at)
            }
        };
        let value = value
            .checked_add(delta)
            .ok_or_else(|| Error::NotAnInteger(format!("incrementing {key:?} by {delta} overflows")))?;
        sqlx::query(UPSERT_ENTRY)
        .bind(space)
        .bind(key)
        .bind(value.to_string().into_bytes())
        .bind(expires_at)
        .execute(&mut *transaction)
        .await
        .map_err(unavailable)?;
        transaction.commit().await.map_err(unavailable)?;
        Ok(value)
    }

    async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.store.file().readers).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn backend() -> (tempfile::TempDir, EmbeddedKeyValue) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).await.unwrap();
        (dir, EmbeddedKeyValue::new(store, &Background::default()))
    }

    #[tokio::test]
    async fn get_set_delete_exists() {
        let (_dir, kv) = backend().await;
        assert_eq!(kv.get("app:a", "k").await.unwrap(), None);
        kv.set("app:a", "k", b"v1", None).await.unwrap();
        kv.set("app:a", "k", b"v2", None).await.unwrap();
        assert_eq!(kv.get("app:a", "k").await.unwrap().as_deref(), Some(&b"v2"[..]));
        assert!(kv.exists("app:a", "k").await.unwrap());
        assert!(kv.delete("app:a", "k").await.unwrap());
        assert!(!kv.delete("app:a", "k").await.unwrap());
        assert!(!kv.exists("app:a", "k").await.unwrap());
    }

    #[tokio::test]
    async fn spaces_do_not_share_keys() {
        let (_dir, kv) = backend().await;
        kv.set("app:a", "k", b"mine", None).await.unwrap();
        assert_eq!(kv.get("app:b", "k").await.unwrap(), None);
        assert!(!kv.delete("app:b", "k").await.unwrap());
        assert_eq!(kv.get("app:a", "k").await.unwrap().as_deref(), Some(&b"mine"[..]));
    }

    #[tokio::test]
    async fn entries_expire() {
        let (_dir, kv) = backend().await;
        kv.set("app:a", "k", b"v", Some(Duration::from_millis(50))).await.unwrap();
        assert!(kv.exists("app:a", "k").await.unwrap());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(kv.get("app:a", "k").await.unwrap(), None);
        assert_eq!(kv.incr("app:a", "k", 1).await.unwrap(), 1, "an expired value counts as absent");
    }

    #[tokio::test]
    async fn incr_is_atomic_and_checked() {
        let (_dir, kv) = backend().await;
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let kv = EmbeddedKeyValue { store: kv.store.clone() };
                tokio::spawn(async move { kv.incr("app:a", "n", 2).await.unwrap() })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(kv.get("app:a", "n").await.unwrap().as_deref(), Some(&b"100"[..]));
        kv.set("app:a", "text", b"abc", None).await.unwrap();
        assert!(matches!(kv.incr("app:a", "text", 1).await, Err(Error::NotAnInteger(_))));
        kv.set("app:a", "max", i64::MAX.to_string().as_bytes(), None).await.unwrap();
        assert!(matches!(kv.incr("app:a", "max", 1).await, Err(Error::NotAnInteger(_))));
    }
}
