//! The one path every trigger runs a component through.
//!
//! A trigger turns its input into a [`Call`] and a guest function, and the guest's result
//! into a reply with a [`Verdict`]; the runner does the rest, the same way for every trigger:
//! the concurrency permit, the store and its limits, the deadline and its grace, the span and
//! the metrics, the inbox record of a delivered event (inside the deadline), and settling the
//! unit of work: a commit when the verdict keeps the work, otherwise an awaited rollback, so
//! the connection goes back to its pool clean before the trigger answers.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use joule_world::database;
use tracing::Instrument as _;

use super::{Failure, Invocation, UnitOfWork};
use crate::component::{LoadedComponent, Overloaded};
use crate::capabilities::shape::InvocationContext;
use crate::trace_context;

/// Time past the component's deadline for its host calls to give up before the guest's part
/// is dropped; guest code itself is interrupted at the deadline.
const DEADLINE_GRACE: Duration = Duration::from_millis(50);

/// How the guest's part ends: its value, or the trap (or host error) that ended it.
pub type GuestResult<T> = wasmtime::Result<T>;

/// What the guest's part returns: a future borrowing the invocation.
pub type GuestFuture<'i, T> = Pin<Box<dyn Future<Output = GuestResult<T>> + Send + 'i>>;

/// One call of a component, as a trigger asks for it.
pub struct Call<'a> {
    pub component: &'a LoadedComponent,
    /// The trigger, for the span and the metrics: `http`, `amqp`.
    pub trigger: &'static str,
    /// `server` for a request, `consumer` for a delivery (OpenTelemetry's span kinds).
    pub span_kind: &'static str,
    pub context: InvocationContext,
    /// The event this call delivers, if it delivers one.
    pub delivery: Option<Delivery<'a>>,
}

/// An event a call delivers: recorded in the component's inbox within the unit of work and
/// the deadline, so one the inbox already holds is not run again; and named on the span.
pub struct Delivery<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub attempt: u32,
}

/// What the trigger made of the guest's result.
pub struct Verdict<R> {
    pub reply: R,
    /// Whether the unit of work keeps what the guest did (commit) or not (rollback).
    pub commit: bool,
    /// The outcome the invocation is counted and traced under.
    pub outcome: &'static str,
}

/// How an invocation ended, for the trigger to answer.
#[derive(Debug)]
pub enum Ended<R> {
    /// The component is at its concurrency limit; nothing ran.
    Overloaded(Overloaded),
    /// The inbox already holds the delivery: it was handled before, and nothing ran.
    Duplicate,
    /// The delivery could not be recorded; nothing ran.
    InboxFailed(database::Error),
    /// The guest trapped or ran out of time, fuel or memory; its work was rolled back.
    Failed(Failure),
    /// The trigger's reply, and the commit's result when the verdict asked for one
    /// (`Ok` after a rollback).
    Replied { reply: R, committed: Result<(), database::Error> },
}

/// How an invocation ends before the trigger's reply: nothing to commit.
enum EarlyEnd {
    Duplicate,
    InboxFailed(database::Error),
    Failed(Failure),
}

impl EarlyEnd {
    fn outcome(&self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::InboxFailed(_) => "inbox_failed",
            Self::Failed(failure) => failure.outcome(),
        }
    }
}

impl<R> From<EarlyEnd> for Ended<R> {
    fn from(end: EarlyEnd) -> Self {
        match end {
            EarlyEnd::Duplicate => Self::Duplicate,
            EarlyEnd::InboxFailed(e) => Self::InboxFailed(e),
            EarlyEnd::Failed(failure) => Self::Failed(failure),
        }
    }
}

/// Runs `guest` on a new invocation of `call.component`, then `reply` on its result once the
/// instance is gone, and settles the unit of work as the reply's verdict says. Returns how it
/// ended and the invocation's span, for what the trigger does after (settling a message).
pub async fn run<T, R, F>(
    call: Call<'_>,
    guest: impl for<'i> FnOnce(&'i mut Invocation) -> GuestFuture<'i, T>,
    reply: impl FnOnce(T) -> F,
) -> (Ended<R>, tracing::Span)
where
    F: Future<Output = Verdict<R>>,
{
    let Call { component, trigger, span_kind, mut context, delivery } = call;
    let span = tracing::info_span!(
        "joule.invoke",
        otel.kind = span_kind,
        component = %component.id,
        version = component.version,
        trigger,
        event_id = tracing::field::Empty,
        event_type = tracing::field::Empty,
        attempt = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    if let Some(delivery) = &delivery {
        span.record("event_id", delivery.event_id);
        span.record("event_type", delivery.event_type);
        span.record("attempt", delivery.attempt);
    }
    context.traceparent = Some(trace_context::adopt(&span, context.traceparent.as_deref()).to_string());
    let ended = async move {
        let started = Instant::now();
        let (ended, outcome) = settle(component, context, delivery, guest, reply).await;
        trace_context::annotate(&tracing::Span::current(), "outcome", outcome);
        component.metrics().invocation(&component.id, component.version, trigger, outcome, started.elapsed());
        ended
    }
    .instrument(span.clone())
    .await;
    (ended, span)
}

/// How the invocation ended, and the outcome it is counted under.
async fn settle<T, R, F>(
    component: &LoadedComponent,
    context: InvocationContext,
    delivery: Option<Delivery<'_>>,
    guest: impl for<'i> FnOnce(&'i mut Invocation) -> GuestFuture<'i, T>,
    reply: impl FnOnce(T) -> F,
) -> (Ended<R>, &'static str)
where
    F: Future<Output = Verdict<R>>,
{
    let mut invocation = match Invocation::start(component, context) {
        Ok(invocation) => invocation,
        Err(overloaded) => return (Ended::Overloaded(overloaded), "overloaded"),
    };
    let deadline = (invocation.deadline() + DEADLINE_GRACE).into();
    let ran = tokio::time::timeout_at(deadline, async {
        if let Some(delivery) = delivery {
            match invocation.record_delivery(delivery.event_id).await {
                Ok(true) => {}
                Ok(false) => return Err(EarlyEnd::Duplicate),
                Err(e) => return Err(EarlyEnd::InboxFailed(e)),
            }
        }
        guest(&mut invocation).await.map_err(|e| EarlyEnd::Failed(Failure::classify(&e)))
    })
    .await
    .unwrap_or(Err(EarlyEnd::Failed(Failure::Timeout)));
    // The instance and every resource it held go first; what remains is the unit of work.
    let unit_of_work = invocation.into_unit_of_work();
    let value = match ran {
        Ok(value) => value,
        Err(end) => {
            roll_back(unit_of_work).await;
            if let EarlyEnd::Failed(failure) = &end {
                tracing::warn!(component = %component.id, error = %failure, "invocation failed");
            }
            let outcome = end.outcome();
            return (end.into(), outcome);
        }
    };
    let Verdict { reply, commit, outcome } = reply(value).await;
    if !commit {
        roll_back(unit_of_work).await;
        return (Ended::Replied { reply, committed: Ok(()) }, outcome);
    }
    match unit_of_work.commit().await {
        Ok(()) => (Ended::Replied { reply, committed: Ok(()) }, outcome),
        Err(e) => {
            tracing::warn!(component = %component.id, error = %e, "the unit of work failed to commit");
            (Ended::Replied { reply, committed: Err(e) }, "commit_failed")
        }
    }
}

/// Rolls back and waits for it, so the connection is clean before the trigger answers.
async fn roll_back(unit_of_work: UnitOfWork) {
    if let Err(e) = unit_of_work.rollback().await {
        tracing::warn!(error = %e, "rollback failed");
    }
}
