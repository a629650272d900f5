//! The relay: publishes committed outbox events to the broker, and removes each only after
//! the broker confirms it. Delivery is at least once; the consumers' inbox makes it once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::outbox::Outbox;
use super::{Broker, Envelope};
use opentelemetry::trace::Status;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::trace_context;

/// Events claimed and published per round.
const BATCH: usize = 256;
/// How long a claim lasts; longer than a publish may take.
const LEASE: Duration = Duration::from_secs(30);
/// How long a batch's publish may wait for the broker's confirms. A broker that holds them
/// (RabbitMQ blocks publishers under a memory or disk alarm) must not hold the relay: it
/// backs off and tries again, and can stop when the host shuts down. Shorter than the lease,
/// so no other relay takes the events while this one still waits.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(20);
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

    /// Relays until `shutdown` is cancelled, then sends what is waiting for a few seconds at
    /// most. Broker or database outages are waited out with backoff; a batch in flight when
    /// shutdown comes is abandoned, and its events are sent again later (delivery is at least
    /// once).
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let batch = tokio::select! {
                () = shutdown.cancelled() => return self.drain().await,
                batch = self.relay_batch() => batch,
            };
            let wait = match batch {
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
                () = shutdown.cancelled() => return self.drain().await,
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
        // Each event's span lasts until the broker confirms it.
        let (spans, envelopes): (Vec<_>, Vec<_>) = pending.iter().map(|p| traced(&p.envelope)).unzip();
        let published = match tokio::time::timeout(PUBLISH_TIMEOUT, self.broker.publish(&envelopes)).await {
            Ok(published) => published,
            Err(_) => Err(anyhow::anyhow!("the broker did not confirm {} events within {PUBLISH_TIMEOUT:?}", envelopes.len())),
        };
        let (outcome, status) = match &published {
            Ok(()) => ("published", Status::Ok),
            Err(e) => ("failed", Status::error(format!("{e:#}"))),
        };
        for span in &spans {
            trace_context::annotate(span, "outcome", outcome);
            span.set_status(status.clone());
        }
        published?;
        let keys: Vec<_> = pending.into_iter().map(|p| p.key).collect();
        self.outbox.remove(&keys).await?;
        tracing::debug!(count = keys.len(), "relayed events");
        Ok(keys.len())
    }
}

/// The relay's span for one event, a child of the publishing invocation's, and the event
/// as it goes out: carrying that span as its handlers' parent.
fn traced(envelope: &Envelope) -> (tracing::Span, Envelope) {
    let span = tracing::info_span!(
        "joule.relay",
        otel.kind = "producer",
        component = %envelope.source,
        event_id = %envelope.id,
        event_type = %envelope.event_type,
        trace_id = tracing::field::Empty,
    );
    let mut envelope = envelope.clone();
    envelope.traceparent = Some(trace_context::adopt(&span, envelope.traceparent.as_deref()).to_string());
    (span, envelope)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::events::outbox::{OutboxKey, Pending};
    use crate::events::{Deliveries, QueueSpec};

    /// One event that stays in the outbox until it is removed.
    #[derive(Default)]
    struct OneEvent {
        removed: Mutex<bool>,
    }

    #[async_trait]
    impl Outbox for OneEvent {
        async fn claim(&self, _: usize, _: Duration) -> anyhow::Result<Vec<Pending>> {
            if *self.removed.lock().unwrap() {
                return Ok(Vec::new());
            }
            let envelope = Envelope::new("e1".into(), "c", "t.v1", serde_json::json!({}), None, None);
            Ok(vec![Pending { key: OutboxKey { component: "c".into(), seq: 1 }, envelope }])
        }
        async fn remove(&self, _: &[OutboxKey]) -> anyhow::Result<()> {
            *self.removed.lock().unwrap() = true;
            Ok(())
        }
        async fn backlog(&self) -> anyhow::Result<u64> {
            Ok(u64::from(!*self.removed.lock().unwrap()))
        }
    }

    /// A broker that accepts publishes but never confirms them, as a blocked RabbitMQ does.
    struct Blocked;

    #[async_trait]
    impl Broker for Blocked {
        fn name(&self) -> &'static str {
            "blocked"
        }
        async fn publish(&self, _: &[Envelope]) -> anyhow::Result<()> {
            std::future::pending().await
        }
        async fn declare(&self, _: &QueueSpec) -> anyhow::Result<()> {
            Ok(())
        }
        async fn consume(&self, _: &QueueSpec) -> anyhow::Result<Box<dyn Deliveries>> {
            anyhow::bail!("not used")
        }
        async fn ping(&self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_broker_that_never_confirms_does_not_hold_the_relay_or_lose_the_event() {
        let outbox = Arc::new(OneEvent::default());
        let relay = Relay::new(outbox.clone(), Arc::new(Blocked), Arc::new(Notify::new()));
        let error = relay.relay_batch().await.unwrap_err();
        assert!(error.to_string().contains("did not confirm"), "{error}");
        assert_eq!(outbox.backlog().await.unwrap(), 1, "the event waits for the next attempt");

        // Shutting down while a batch waits on the blocked broker ends within the drain's
        // bound, without waiting for the batch to time out.
        let shutdown = CancellationToken::new();
        let cancel = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            cancel.cancel();
        });
        let started = tokio::time::Instant::now();
        relay.run(shutdown).await;
        assert!(started.elapsed() < PUBLISH_TIMEOUT, "{:?}", started.elapsed());
        assert_eq!(outbox.backlog().await.unwrap(), 1, "the event is still there for the next start");
    }
}
