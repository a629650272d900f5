//! One component's consumer: declares its queue, takes deliveries up to its prefetch, and
//! reconnects with backoff whenever the broker goes away.

use std::sync::Arc;
use std::time::Duration;

use joule_runtime::Runtime;
use joule_runtime::events::QueueSpec;
use joule_runtime::manifest::AmqpTriggerConfig;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::handle;

const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub(crate) struct Consumer {
    runtime: Arc<Runtime>,
    trigger: Arc<AmqpTriggerConfig>,
    queue: QueueSpec,
    shutdown_grace: Duration,
}

impl Consumer {
    pub(crate) fn new(runtime: Arc<Runtime>, trigger: AmqpTriggerConfig, shutdown_grace: Duration) -> Self {
        let queue = runtime.queue(&trigger);
        Self { runtime, trigger: Arc::new(trigger), queue, shutdown_grace }
    }

    pub(crate) async fn run(self, stopped: watch::Receiver<bool>) {
        let span = tracing::info_span!("joule.consumer", component = %self.trigger.component, queue = %self.queue.name);
        self.consume_until_stopped(stopped).instrument(span).await;
    }

    async fn consume_until_stopped(self, mut stopped: watch::Receiver<bool>) {
        let in_flight = Arc::new(Semaphore::new(usize::from(self.queue.prefetch)));
        let mut handlers = JoinSet::new();
        let mut backoff = Duration::from_millis(200);
        while !*stopped.borrow() {
            let consumed = tokio::select! {
                result = self.consume(&in_flight, &mut handlers) => result,
                _ = stopped.changed() => break,
            };
            match consumed {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), retry_in = ?backoff, "the consumer lost the broker; reconnecting");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stopped.changed() => break,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        // Unsettled messages go back to the queue when the consumer is gone.
        if tokio::time::timeout(self.shutdown_grace, async { while handlers.join_next().await.is_some() {} })
            .await
            .is_err()
        {
            tracing::warn!("handlers still running after the shutdown grace period");
        }
    }

    /// Declares the queue and handles deliveries until the broker goes away.
    async fn consume(&self, in_flight: &Arc<Semaphore>, handlers: &mut JoinSet<()>) -> anyhow::Result<()> {
        let broker = self.runtime.broker();
        broker.declare(&self.queue).await?;
        let mut deliveries = broker.consume(&self.queue).await?;
        tracing::info!(patterns = ?self.queue.patterns, "consuming");
        loop {
            let permit = in_flight.clone().acquire_owned().await.expect("the semaphore is never closed");
            let delivery = deliveries.next().await?;
            while handlers.try_join_next().is_some() {}
            let (runtime, trigger) = (self.runtime.clone(), self.trigger.clone());
            handlers.spawn(async move {
                handle::handle(&runtime, &trigger, delivery).await;
                drop(permit);
            });
        }
    }
}
