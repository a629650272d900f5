//! One delivery as a call of its component (the runtime's runner records it in the inbox,
//! runs the handler and settles the unit of work), and the result as the message's fate:
//! acknowledged, retried or dead-lettered, only once the unit of work is settled.

use std::sync::Arc;
use std::time::Instant;

use joule_runtime::events::{Delivery, Envelope};
use joule_runtime::invocation::{self, Call, Ended, GuestResult, Invocation, Verdict};
use joule_runtime::manifest::AmqpTriggerConfig;
use joule_runtime::{Failure, InvocationContext, LoadedComponent, Runtime};
use joule_world::event_handler::handler::Error as HandlerError;
use joule_world::event_types::Event;
use tracing::Instrument as _;

/// How handling a delivery ended, and so how it is settled.
#[derive(Debug)]
enum Outcome {
    Handled,
    /// The inbox already holds the event: it was handled before.
    Duplicate,
    /// Failed in a way that may pass: retry, or dead-letter after the last attempt.
    Failed(String),
    /// The component is at its concurrency limit: retry without counting an attempt.
    Overloaded,
    /// Will never succeed: dead-letter now.
    Permanent(String),
}

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
    let (outcome, span) = invoke(&component, envelope, attempt).await;
    let metrics = runtime.metrics();
    // In the invocation's span, so these lines carry its trace.
    let settling = async {
        match outcome {
            Outcome::Handled | Outcome::Duplicate => settle.ack().await,
            Outcome::Overloaded => settle.retry(attempt, trigger.backoff).await,
            Outcome::Failed(reason) if attempt >= trigger.max_attempts => {
                tracing::warn!(%reason, "dead-lettering after the last attempt");
                metrics.dead_letter(&trigger.component);
                settle.dead_letter(&format!("failed after {attempt} attempts: {reason}"), attempt).await
            }
            Outcome::Failed(reason) => {
                let delay = trigger.retry_delay(attempt);
                tracing::info!(%reason, retry_in = ?delay, "retrying");
                metrics.retry(&trigger.component);
                settle.retry(attempt + 1, delay).await
            }
            Outcome::Permanent(reason) => {
                tracing::warn!(%reason, "dead-lettering a permanent failure");
                metrics.dead_letter(&trigger.component);
                settle.dead_letter(&format!("permanent error: {reason}"), attempt).await
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

/// Runs the handler on the event, in the trace context the publisher left on it.
async fn invoke(component: &Arc<LoadedComponent>, envelope: Envelope, attempt: u32) -> (Outcome, tracing::Span) {
    let context = InvocationContext { correlation_id: envelope.correlationid.clone(), traceparent: envelope.traceparent.clone() };
    let (event_id, event_type) = (envelope.id.clone(), envelope.event_type.clone());
    let call = Call {
        component,
        trigger: "amqp",
        span_kind: "consumer",
        context,
        delivery: Some(invocation::Delivery { event_id: &event_id, event_type: &event_type, attempt }),
    };
    let event = wit_event(envelope, attempt);
    let guest = Arc::clone(component);
    let (ended, span) = invocation::run(call, move |invocation| Box::pin(call_handler(guest, invocation, event)), verdict).await;
    let outcome = match ended {
        Ended::Replied { reply, committed: Ok(()) } => reply,
        Ended::Replied { committed: Err(e), .. } => Outcome::Failed(format!("the unit of work failed to commit: {e:?}")),
        Ended::Duplicate => Outcome::Duplicate,
        Ended::Overloaded(_) | Ended::Failed(Failure::Overloaded) => Outcome::Overloaded,
        Ended::InboxFailed(e) => Outcome::Failed(format!("the inbox could not be written: {e:?}")),
        Ended::Failed(failure) => Outcome::Failed(failure.public_message().to_string()),
    };
    (outcome, span)
}

/// The guest's part: the handler's own result, or the trap that ended it.
async fn call_handler(
    component: Arc<LoadedComponent>,
    invocation: &mut Invocation,
    event: Event,
) -> GuestResult<Result<(), HandlerError>> {
    let handler = component.event_handler().expect("checked when the trigger started").clone();
    let instantiating = Instant::now();
    let instance = handler.instantiate_async(invocation.store()).await?;
    component.metrics().instantiation(&component.id, "amqp", instantiating.elapsed());
    instance.joule_platform_handler().call_handle(invocation.store(), &event).await
}

/// A handled event keeps its work; a refused one is retried or dead-lettered without it.
async fn verdict(result: Result<(), HandlerError>) -> Verdict<Outcome> {
    match result {
        Ok(()) => Verdict { reply: Outcome::Handled, commit: true, outcome: "handled" },
        Err(HandlerError::Retryable(reason)) => Verdict { reply: Outcome::Failed(reason), commit: false, outcome: "failed" },
        Err(HandlerError::Permanent(reason)) => {
            Verdict { reply: Outcome::Permanent(reason), commit: false, outcome: "permanent_failure" }
        }
    }
}

fn wit_event(envelope: Envelope, attempt: u32) -> Event {
    Event {
        id: envelope.id,
        source: envelope.source,
        event_type: envelope.event_type,
        time: envelope.time,
        data_content_type: envelope.datacontenttype,
        data: envelope.data.to_string(),
        correlation_id: envelope.correlationid,
        traceparent: envelope.traceparent,
        attempt,
    }
}
