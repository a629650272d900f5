//! One delivery as a call of its component (the runtime's runner records it in the inbox,
//! runs the handler and settles the unit of work), and the result as the message's fate:
//! acknowledged, retried or dead-lettered, only once the unit of work is settled.

use joule_runtime::Runtime;
use joule_runtime::events::{Delivery, Envelope};
use joule_runtime::invocation::{self, Fate};
use joule_runtime::manifest::AmqpTriggerConfig;
use tracing::Instrument as _;

pub(crate) async fn handle(runtime: &Runtime, trigger: &AmqpTriggerConfig, delivery: Delivery) {
    let Delivery { body, attempt, settle } = delivery;
    let envelope = match Envelope::parse(&body) {
        Ok(envelope) => envelope,
        Err(reason) => {
            tracing::warn!(component = %trigger.component, %reason, "dead-lettering an unreadable message");
            settled(settle.dead_letter(&format!("unreadable message: {reason}"), attempt).await);
            return;
        }
    };
    let component = runtime.component(&trigger.component).expect("queue-triggered components are loaded");
    let (outcome, span) = invocation::deliver(&component, envelope, attempt, "amqp").await;
    let metrics = runtime.metrics();
    // In the invocation's span, so these lines carry its trace.
    let settling = async {
        match outcome.fate(attempt, &trigger.retry) {
            Fate::Done => settle.ack().await,
            Fate::Retry { delay, counted: false, .. } => settle.retry(attempt, delay).await,
            Fate::Retry { delay, reason, .. } => {
                tracing::info!(%reason, retry_in = ?delay, "retrying");
                metrics.retry(&trigger.component);
                settle.retry(attempt + 1, delay).await
            }
            Fate::Dead(reason) => {
                tracing::warn!(%reason, "dead-lettering");
                metrics.dead_letter(&trigger.component);
                settle.dead_letter(&reason, attempt).await
            }
        }
    };
    settled(settling.instrument(span).await);
}

/// A message that could not be settled stays unacknowledged and is delivered again.
fn settled(result: anyhow::Result<()>) {
    if let Err(e) = result {
        tracing::warn!(error = %format!("{e:#}"), "could not settle the message; it will be delivered again");
    }
}
