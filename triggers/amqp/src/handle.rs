//! Handling one delivery as one unit of work: record the event in the inbox, run the
//! handler, commit, and only then settle the message.

use std::time::{Duration, Instant};

use joule_runtime::events::{Delivery, Envelope};
use joule_runtime::manifest::AmqpTriggerConfig;
use joule_runtime::{Failure, InvocationContext, LoadedComponent, Runtime, trace_context};
use joule_world::event_handler::handler::Error as HandlerError;
use joule_world::event_types::Event;
use tracing::Instrument as _;

/// Time past the deadline for host calls to give up before the invocation is dropped.
const DEADLINE_GRACE: Duration = Duration::from_millis(50);

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

impl Outcome {
    /// How it is counted and traced.
    fn name(&self) -> &'static str {
        match self {
            Self::Handled => "handled",
            Self::Duplicate => "duplicate",
            Self::Failed(_) => "failed",
            Self::Overloaded => "overloaded",
            Self::Permanent(_) => "permanent_failure",
        }
    }
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
    let span = tracing::info_span!(
        "joule.invoke",
        otel.kind = "consumer",
        component = %trigger.component,
        trigger = "amqp",
        event_id = %envelope.id,
        event_type = %envelope.event_type,
        attempt,
        trace_id = tracing::field::Empty,
    );
    let traceparent = trace_context::adopt(&span, envelope.traceparent.as_deref()).to_string();
    async {
        let started = Instant::now();
        let (outcome, version) = run(runtime, trigger, envelope, traceparent, attempt).await;
        let name = outcome.name();
        let span = tracing::Span::current();
        trace_context::annotate(&span, "outcome", name);
        trace_context::annotate(&span, "version", i64::from(version));
        let metrics = runtime.metrics();
        metrics.invocation(&trigger.component, version, "amqp", name, started.elapsed());
        let result = match outcome {
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
        };
        settled(result);
    }
    .instrument(span)
    .await;
}

/// A message that could not be settled stays unacknowledged and is delivered again.
fn settled(result: anyhow::Result<()>) {
    if let Err(e) = result {
        tracing::warn!(error = %format!("{e:#}"), "could not settle the message; it will be delivered again");
    }
}

/// How the delivery ended, and the component version that handled it.
///
/// The handler runs in the trace context `traceparent`, a child of the publisher's.
async fn run(
    runtime: &Runtime,
    trigger: &AmqpTriggerConfig,
    envelope: Envelope,
    traceparent: String,
    attempt: u32,
) -> (Outcome, u32) {
    let component = runtime.component(&trigger.component).expect("queue-triggered components are loaded");
    let context = InvocationContext { correlation_id: envelope.correlationid.clone(), traceparent: Some(traceparent) };
    (invoke(&component, envelope, context, attempt).await, component.version)
}

async fn invoke(component: &LoadedComponent, envelope: Envelope, context: InvocationContext, attempt: u32) -> Outcome {
    let handler = component.event_handler().expect("checked when the trigger started").clone();
    let mut invocation = match component.invocation(context) {
        Ok(invocation) => invocation,
        Err(_) => return Outcome::Overloaded,
    };
    match invocation.record_delivery(&envelope.id).await {
        Ok(true) => {}
        Ok(false) => return Outcome::Duplicate,
        Err(e) => return Outcome::Failed(format!("the inbox could not be written: {e:?}")),
    }
    let deadline = invocation.deadline();
    let event = wit_event(envelope, attempt);
    let called = tokio::time::timeout_at((deadline + DEADLINE_GRACE).into(), async {
        let instantiating = Instant::now();
        let instance = handler.instantiate_async(invocation.store()).await?;
        component.metrics().instantiation(&component.id, "amqp", instantiating.elapsed());
        instance.joule_platform_handler().call_handle(invocation.store(), &event).await
    })
    .await;
    let unit_of_work = invocation.into_unit_of_work();
    match called {
        // Dropping the unit of work rolls it back.
        Err(_) => Outcome::Failed(Failure::Timeout.to_string()),
        Ok(Err(trap)) => match Failure::classify(&trap) {
            Failure::Overloaded => Outcome::Overloaded,
            failure => {
                tracing::warn!(error = %failure, "the handler failed");
                Outcome::Failed(failure.public_message().to_string())
            }
        },
        Ok(Ok(Err(HandlerError::Retryable(reason)))) => Outcome::Failed(reason),
        Ok(Ok(Err(HandlerError::Permanent(reason)))) => Outcome::Permanent(reason),
        Ok(Ok(Ok(()))) => match unit_of_work.commit().await {
            Ok(()) => Outcome::Handled,
            Err(e) => Outcome::Failed(format!("the unit of work failed to commit: {e:?}")),
        },
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
