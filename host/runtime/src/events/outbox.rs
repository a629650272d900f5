//! The outbox: events written inside units of work, waiting for the relay.

use std::time::Duration;

use async_trait::async_trait;

use super::Envelope;

/// Where a pending event sits, so the relay can remove it once the broker has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutboxKey {
    pub component: String,
    pub seq: i64,
}

#[derive(Debug, Clone)]
pub struct Pending {
    pub key: OutboxKey,
    pub envelope: Envelope,
}

/// The committed, unsent events of every component.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Claims up to `limit` events, oldest first, for `lease`; another relay may take them
    /// once the lease runs out without their removal.
    async fn claim(&self, limit: usize, lease: Duration) -> anyhow::Result<Vec<Pending>>;

    /// Removes events the broker has confirmed.
    async fn remove(&self, sent: &[OutboxKey]) -> anyhow::Result<()>;

    /// How many committed events wait for the broker's confirm, claimed or not.
    async fn backlog(&self) -> anyhow::Result<u64>;
}
