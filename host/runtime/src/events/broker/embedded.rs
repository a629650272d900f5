//! The embedded broker: durable queues in the local store, so the whole event flow runs on
//! one machine with no services. Bindings, retries with delays, and dead-lettering follow
//! the same rules as on RabbitMQ.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use async_trait::async_trait;
use sqlx::Row as _;
use tokio::sync::Notify;

use super::{Broker, Deliveries, Delivery, QueueSpec, Settle, topic_matches};
use crate::embedded::LocalStore;
use crate::events::Envelope;

/// How long a delivery stays with its consumer before another may take it. A restart frees
/// every lease at once, since this process alone owns the store.
const LEASE: Duration = Duration::from_secs(600);
/// How often an idle consumer looks for retries whose delay has passed.
const IDLE_POLL: Duration = Duration::from_millis(250);

pub struct EmbeddedBroker {
    store: LocalStore,
    /// Queue name to its patterns: a copy of `broker_bindings`, read on every publish.
    bindings: RwLock<HashMap<String, Vec<String>>>,
    /// Woken whenever a message becomes available.
    arrived: Arc<Notify>,
}

/// Leases the oldest message of a queue whose time has come. It walks the partial index of
/// unleased messages in id order, so its cost does not grow with the backlog.
const TAKE_NEXT: &str = "UPDATE broker_messages SET leased_until = $1
     WHERE id = (SELECT id FROM broker_messages
                 WHERE queue = $2 AND leased_until IS NULL AND available_at <= $3
                 ORDER BY id LIMIT 1)
     RETURNING id, body, attempt";

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl EmbeddedBroker {
    pub async fn open(store: LocalStore) -> anyhow::Result<Self> {
        let writer = &store.file().writer;
        sqlx::query("UPDATE broker_messages SET leased_until = NULL WHERE leased_until IS NOT NULL")
            .execute(writer)
            .await
            .context("failed to release the embedded broker's leases")?;
        let mut bindings: HashMap<String, Vec<String>> = HashMap::new();
        for row in sqlx::query("SELECT queue, pattern FROM broker_bindings").fetch_all(writer).await? {
            bindings.entry(row.get(0)).or_default().push(row.get(1));
        }
        Ok(Self { store, bindings: RwLock::new(bindings), arrived: Arc::new(Notify::new()) })
    }
}

#[async_trait]
impl Broker for EmbeddedBroker {
    fn name(&self) -> &'static str {
        "embedded"
    }

    fn shared(&self) -> bool {
        false
    }

    async fn publish(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let routes: Vec<(String, Vec<u8>)> = {
            let bindings = self.bindings.read().expect("bindings lock");
            events
                .iter()
                .flat_map(|event| {
                    let body = event.to_bytes();
                    bindings
                        .iter()
                        .filter(|(_, patterns)| patterns.iter().any(|p| topic_matches(p, &event.event_type)))
                        .map(move |(queue, _)| (queue.clone(), body.clone()))
                })
                .collect()
        };
        let mut transaction = self.store.file().writer.begin().await?;
        let now = now_ms();
        for (queue, body) in routes {
            sqlx::query("INSERT INTO broker_messages (queue, body, available_at) VALUES ($1, $2, $3)")
                .bind(queue)
                .bind(body)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        self.arrived.notify_waiters();
        Ok(())
    }

    async fn declare(&self, queue: &QueueSpec) -> anyhow::Result<()> {
        let mut transaction = self.store.file().writer.begin().await?;
        sqlx::query("DELETE FROM broker_bindings WHERE queue = $1").bind(&queue.name).execute(&mut *transaction).await?;
        for pattern in &queue.patterns {
            sqlx::query("INSERT INTO broker_bindings (queue, pattern) VALUES ($1, $2)")
                .bind(&queue.name)
                .bind(pattern)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        self.bindings.write().expect("bindings lock").insert(queue.name.clone(), queue.patterns.clone());
        Ok(())
    }

    async fn consume(&self, queue: &QueueSpec) -> anyhow::Result<Box<dyn Deliveries>> {
        Ok(Box::new(EmbeddedDeliveries {
            store: self.store.clone(),
            queue: queue.name.clone(),
            dead_letters: queue.dead_letter_queue(),
            arrived: self.arrived.clone(),
        }))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.store.file().readers).await?;
        Ok(())
    }
}

struct EmbeddedDeliveries {
    store: LocalStore,
    queue: String,
    dead_letters: String,
    arrived: Arc<Notify>,
}

#[async_trait]
impl Deliveries for EmbeddedDeliveries {
    async fn next(&mut self) -> anyhow::Result<Delivery> {
        loop {
            // Register interest before looking, so a publish in between is not missed.
            let arrived = self.arrived.notified();
            let now = now_ms();
            let taken = sqlx::query(TAKE_NEXT)
            .bind(now + millis(LEASE))
            .bind(&self.queue)
            .bind(now)
            .fetch_optional(&self.store.file().writer)
            .await?;
            if let Some(row) = taken {
                let settle = EmbeddedSettle {
                    store: self.store.clone(),
                    id: row.get(0),
                    dead_letters: self.dead_letters.clone(),
                    arrived: self.arrived.clone(),
                };
                let attempt: i64 = row.get(2);
                return Ok(Delivery { body: row.get(1), attempt: u32::try_from(attempt).unwrap_or(1), settle: Box::new(settle) });
            }
            tokio::select! {
                () = arrived => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }
}

struct EmbeddedSettle {
    store: LocalStore,
    id: i64,
    dead_letters: String,
    arrived: Arc<Notify>,
}

#[async_trait]
impl Settle for EmbeddedSettle {
    async fn ack(self: Box<Self>) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM broker_messages WHERE id = $1").bind(self.id).execute(&self.store.file().writer).await?;
        Ok(())
    }

    async fn retry(self: Box<Self>, attempt: u32, delay: Duration) -> anyhow::Result<()> {
        sqlx::query("UPDATE broker_messages SET attempt = $2, available_at = $3, leased_until = NULL WHERE id = $1")
            .bind(self.id)
            .bind(i64::from(attempt))
            .bind(now_ms() + millis(delay))
            .execute(&self.store.file().writer)
            .await?;
        self.arrived.notify_waiters();
        Ok(())
    }

    async fn dead_letter(self: Box<Self>, reason: &str, attempts: u32) -> anyhow::Result<()> {
        sqlx::query("UPDATE broker_messages SET queue = $2, reason = $3, attempt = $4, leased_until = NULL WHERE id = $1")
            .bind(self.id)
            .bind(&self.dead_letters)
            .bind(reason)
            .bind(i64::from(attempts))
            .execute(&self.store.file().writer)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn taking_a_message_walks_the_index_of_unleased_messages_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).await.unwrap();
        let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {TAKE_NEXT}"))
            .bind(1)
            .bind("queue")
            .bind(1)
            .fetch_all(&store.file().writer)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get("detail"))
            .collect();
        assert!(plan.iter().any(|step| step.contains("USING INDEX broker_messages_ready")), "{plan:?}");
        assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{plan:?}");
    }
}
