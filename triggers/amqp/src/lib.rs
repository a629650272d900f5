//! The queue trigger: each `[[trigger.amqp]]` component consumes its own durable queue,
//! `joule.<application>.<component>`, bound to the event types it lists.
//!
//! A message is acknowledged only after the handler's unit of work commits, and that unit
//! of work records the event in the component's inbox, so a redelivered event is
//! acknowledged without running again. Failures are retried with backoff through delay
//! queues; after the last attempt, or at once on a permanent error, the message goes to
//! `<queue>.dlq` with the reason.

mod consumer;
mod handle;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use joule_runtime::manifest::AmqpTriggerConfig;
use joule_runtime::{ManifestError, Runtime};
use tokio::sync::watch;

pub struct AmqpTrigger {
    runtime: Arc<Runtime>,
    triggers: Vec<AmqpTriggerConfig>,
    /// How long handlers in flight may take to finish after shutdown begins.
    shutdown_grace: Duration,
}

impl AmqpTrigger {
    /// Checks that every queue-triggered component exports the event handler.
    pub fn new(runtime: Arc<Runtime>, shutdown_grace: Duration) -> Result<Self, ManifestError> {
        let manifest = runtime.manifest();
        for trigger in &manifest.amqp_triggers {
            let component = runtime.component(&trigger.component);
            if !component.is_some_and(|c| c.event_handler().is_some()) {
                return Err(manifest
                    .error(format!(
                        "component {:?} does not export {}.x, so it cannot handle events; \
                         export the handler with joule-sdk's export_handler!",
                        trigger.component,
                        joule_runtime::EVENT_HANDLER_EXPORT
                    ))
                    .at_key(trigger.key("component")));
            }
        }
        let triggers = manifest.amqp_triggers.clone();
        Ok(Self { runtime, triggers, shutdown_grace })
    }

    /// Declares every queue with its bindings. Run it before the relay or the HTTP server
    /// start: the broker drops an event published before its queue is bound, so events from
    /// the first requests would otherwise miss handlers whose consumers were still starting.
    pub async fn declare(&self) -> anyhow::Result<()> {
        let broker = self.runtime.broker();
        for trigger in &self.triggers {
            let queue = self.runtime.queue(trigger);
            broker
                .declare(&queue)
                .await
                .with_context(|| format!("failed to declare queue {} for component {:?}", queue.name, trigger.component))?;
        }
        Ok(())
    }

    /// Declares every queue and consumes until `shutdown`, then lets handlers in flight finish.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        if self.triggers.is_empty() {
            return Ok(());
        }
        let (stop, stopped) = watch::channel(false);
        let consumers: Vec<_> = self
            .triggers
            .into_iter()
            .map(|trigger| {
                let consumer = consumer::Consumer::new(self.runtime.clone(), trigger, self.shutdown_grace);
                tokio::spawn(consumer.run(stopped.clone()))
            })
            .collect();
        shutdown.await;
        let _ = stop.send(true);
        for consumer in consumers {
            let _ = consumer.await;
        }
        Ok(())
    }
}
