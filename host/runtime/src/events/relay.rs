//! The relay: publishes committed outbox events to the broker, and removes each only after
//! the broker confirms it. Delivery is at least once; the consumers' inbox makes it once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::outbox::Outbox;
use super::{Broker, Envelope};
use opentelemetry::trace::Status;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::trace_context;

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
        // Each event's span lasts until the broker confirms it.
        let (spans, envelopes): (Vec<_>, Vec<_>) = pending.iter().map(|p| traced(&p.envelope)).unzip();
        let published = self.broker.publish(&envelopes).await;
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
