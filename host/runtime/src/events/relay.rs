//! The relay: publishes committed outbox events to the broker, and removes each only after
//! the broker confirms it. Delivery is at least once; the consumers' inbox makes it once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::Broker;
use super::outbox::Outbox;

/// Events claimed and published per round.
const BATCH: usize = 256;
/// How long a claim lasts; longer than any publish should take.
const LEASE: Duration = Duration::from_secs(30);
/// How often to look even when nothing signalled, for other replicas' leftovers.
const POLL: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

pub struct Relay {
    outbox: Arc<dyn Outbox>,
    broker: Arc<dyn Broker>,
    /// Signalled after a unit of work that published commits.
    signal: Arc<Notify>,
}

impl Relay {
    pub fn new(outbox: Arc<dyn Outbox>, broker: Arc<dyn Broker>, signal: Arc<Notify>) -> Self {
        Self { outbox, broker, signal }
    }

    /// Relays until `shutdown` completes. Broker or database outages are waited out with backoff.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = Duration::from_millis(100);
        loop {
            let wait = match self.relay_batch().await {
                Ok(sent) if sent == BATCH => {
                    backoff = Duration::from_millis(100);
                    continue;
                }
                Ok(_) => {
                    backoff = Duration::from_millis(100);
                    POLL
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), retry_in = ?backoff, "the relay could not publish; retrying");
                    let wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    wait
                }
            };
            tokio::select! {
                () = &mut shutdown => return self.drain().await,
                () = self.signal.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Sends what is waiting before the process exits, for a few seconds at most; anything
    /// left is sent by the next start or another replica.
    async fn drain(&self) {
        let drained = async {
            while let Ok(sent) = self.relay_batch().await {
                if sent == 0 {
                    break;
                }
            }
        };
        if tokio::time::timeout(Duration::from_secs(5), drained).await.is_err() {
            tracing::warn!("stopped relaying with events still waiting; they are sent after a restart");
        }
    }

    /// Claims, publishes and removes one batch; returns how many events went out.
    async fn relay_batch(&self) -> anyhow::Result<usize> {
        let pending = self.outbox.claim(BATCH, LEASE).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let envelopes: Vec<_> = pending.iter().map(|p| p.envelope.clone()).collect();
        self.broker.publish(&envelopes).await?;
        let keys: Vec<_> = pending.into_iter().map(|p| p.key).collect();
        self.outbox.remove(&keys).await?;
        tracing::debug!(count = keys.len(), "relayed events");
        Ok(keys.len())
    }
}
