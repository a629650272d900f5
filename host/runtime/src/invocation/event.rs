//! Delivering an event to a component's handler, as the queue and timer triggers do: one
//! call through the runner, with the event recorded in the inbox, and its result in the
//! terms a delivery is settled in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use joule_world::event_handler::handler::Error as HandlerError;
use joule_world::event_types::Event;

use super::{Call, Delivery, Ended, GuestResult, Invocation, Verdict, run};
use crate::capabilities::shape::InvocationContext;
use crate::component::LoadedComponent;
use crate::events::Envelope;
use crate::invocation::Failure;
use crate::manifest::Retry;

/// How delivering an event ended, and so how the trigger settles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
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

/// What becomes of a delivery: the same rule for queue messages and timers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Handled, now or before.
    Done,
    /// Tried again after `delay`; not `counted` as an attempt when the component was only busy.
    Retry { delay: Duration, counted: bool, reason: String },
    /// Given up, for the reason given: dead-lettered, or kept as a dead timer.
    Dead(String),
}

impl Delivered {
    /// The fate of delivery `attempt` that ended so, under `retry`.
    pub fn fate(self, attempt: u32, retry: &Retry) -> Fate {
        match self {
            Self::Handled | Self::Duplicate => Fate::Done,
            Self::Overloaded => Fate::Retry {
                delay: retry.backoff,
                counted: false,
                reason: "the component was at its concurrency limit".into(),
            },
            Self::Failed(reason) if attempt >= retry.max_attempts => {
                Fate::Dead(format!("failed after {attempt} attempts: {reason}"))
            }
            Self::Failed(reason) => Fate::Retry { delay: retry.retry_delay(attempt), counted: true, reason },
            Self::Permanent(reason) => Fate::Dead(format!("permanent error: {reason}")),
        }
    }
}

/// Runs `component`'s handler on `envelope`, delivery `attempt`, in the trace context the
/// event carries. Returns how it ended and the invocation's span, to settle it in.
pub async fn deliver(
    component: &Arc<LoadedComponent>,
    envelope: Envelope,
    attempt: u32,
    trigger: &'static str,
) -> (Delivered, tracing::Span) {
    let context = InvocationContext {
        correlation_id: envelope.correlationid.clone(),
        traceparent: envelope.traceparent.clone(),
        caller: None,
        actor: envelope.actor.clone(),
    };
    let (event_id, event_type) = (envelope.id.clone(), envelope.event_type.clone());
    let call = Call {
        component,
        trigger,
        span_kind: "consumer",
        context,
        delivery: Some(Delivery { event_id: &event_id, event_type: &event_type, attempt }),
    };
    let event = wit_event(envelope, attempt);
    let guest = Arc::clone(component);
    let (ended, span) =
        run(call, move |invocation| Box::pin(call_handler(guest, invocation, event, trigger)), verdict).await;
    let delivered = match ended {
        Ended::Replied { reply, committed: Ok(()) } => reply,
        Ended::Replied { committed: Err(e), .. } => Delivered::Failed(format!("the unit of work failed to commit: {e:?}")),
        Ended::Duplicate => Delivered::Duplicate,
        Ended::Overloaded(_) | Ended::Failed(Failure::Overloaded) => Delivered::Overloaded,
        Ended::InboxFailed(e) => Delivered::Failed(format!("the inbox could not be written: {e:?}")),
        Ended::Failed(failure) => Delivered::Failed(failure.public_message().to_string()),
    };
    (delivered, span)
}

/// The guest's part: the handler's own result, or the trap that ended it.
async fn call_handler(
    component: Arc<LoadedComponent>,
    invocation: &mut Invocation,
    event: Event,
    trigger: &'static str,
) -> GuestResult<Result<(), HandlerError>> {
    let handler = component.event_handler().expect("checked when the trigger started").clone();
    let instantiating = Instant::now();
    let instance = handler.instantiate_async(invocation.store()).await?;
    component.metrics().instantiation(&component.id, trigger, instantiating.elapsed());
    instance.joule_platform_handler().call_handle(invocation.store(), &event).await
}

/// A handled event keeps its work; a refused one is retried or dead-lettered without it.
async fn verdict(result: Result<(), HandlerError>) -> Verdict<Delivered> {
    match result {
        Ok(()) => Verdict { reply: Delivered::Handled, commit: true, outcome: "handled" },
        Err(HandlerError::Retryable(reason)) => Verdict { reply: Delivered::Failed(reason), commit: false, outcome: "failed" },
        Err(HandlerError::Permanent(reason)) => {
            Verdict { reply: Delivered::Permanent(reason), commit: false, outcome: "permanent_failure" }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_is_retried_until_its_last_attempt_and_a_busy_component_costs_none() {
        let retry = Retry { max_attempts: 3, backoff: Duration::from_millis(100), max_backoff: Duration::from_secs(1) };
        assert_eq!(Delivered::Handled.fate(3, &retry), Fate::Done);
        assert_eq!(Delivered::Duplicate.fate(1, &retry), Fate::Done);
        let busy = Delivered::Overloaded.fate(3, &retry);
        assert!(matches!(busy, Fate::Retry { delay, counted: false, .. } if delay == retry.backoff), "{busy:?}");
        let second = Delivered::Failed("down".into()).fate(2, &retry);
        assert_eq!(second, Fate::Retry { delay: Duration::from_millis(200), counted: true, reason: "down".into() });
        assert_eq!(Delivered::Failed("down".into()).fate(3, &retry), Fate::Dead("failed after 3 attempts: down".into()));
        assert_eq!(Delivered::Permanent("no".into()).fate(1, &retry), Fate::Dead("permanent error: no".into()));
    }
}
