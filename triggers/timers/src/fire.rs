//! Delivering one due timer to its component's handler, and settling it by the outcome.

use chrono::{SecondsFormat, Utc};
use joule_runtime::Runtime;
use joule_runtime::capabilities::ocpp;
use joule_runtime::events::Envelope;
use joule_runtime::invocation::{self, Delivered, Fate};
use joule_runtime::manifest::Retry;
use joule_runtime::timers::{DueTimer, Settle};
use tracing::Instrument as _;

pub(crate) async fn fire(runtime: &Runtime, timer: DueTimer) {
    let (settle, span) = deliver(runtime, &timer).await;
    let (store, signal) = runtime.timers();
    let settling = async {
        match store.settle(&timer, settle).await {
            // A retry or a schedule's next tick may now be the earliest: the loop looks again.
            Ok(()) => signal.notify_one(),
            // Its claim runs out, and it is delivered again; the inbox keeps that harmless.
            Err(e) => tracing::warn!(error = %format!("{e:#}"), timer = %timer.id, "failed to settle a timer; it will fire again"),
        }
    };
    settling.instrument(span).await;
}

/// Runs the delivery, and says how the timer goes on.
async fn deliver(runtime: &Runtime, timer: &DueTimer) -> (Settle, tracing::Span) {
    let next_tick = timer.schedule.as_deref().and_then(|schedule| crate::schedules::next_tick(runtime, timer, schedule));
    let refused = |error: String| {
        tracing::warn!(component = %timer.component, timer = %timer.id, %error, "a timer cannot be delivered");
        runtime.metrics().timer_fired(&timer.component, "dead", None);
        (Settle::Dead { error, next_tick }, tracing::Span::current())
    };
    let Some(component) = runtime.component(&timer.component) else {
        return refused(format!("component {:?} is not loaded", timer.component));
    };
    let Some(retry) = policy(runtime, timer) else {
        return refused(format!(
            "component {:?} declares no timer or schedule for {:?}",
            timer.component, timer.event_type
        ));
    };
    let mut envelope = Envelope::new(
        timer.id.clone(),
        &timer.component,
        &timer.event_type,
        timer.data.clone(),
        timer.correlation_id.clone(),
        timer.traceparent.clone(),
    );
    envelope.time = timer.due_at.to_rfc3339_opts(SecondsFormat::Micros, true);
    envelope.actor = timer.actor.clone();
    let attempt = timer.attempts + 1;
    let late = (attempt == 1).then(|| (Utc::now() - timer.due_at).to_std().unwrap_or_default());
    let (delivered, span) = invocation::deliver(&component, envelope, attempt, "timer").await;
    let duplicate = delivered == Delivered::Duplicate;
    let now = Utc::now();
    let (settle, outcome) = match delivered.fate(attempt, &retry) {
        Fate::Done => (Settle::Delivered { next_tick }, if duplicate { "duplicate" } else { "delivered" }),
        Fate::Retry { delay, counted, reason } => {
            span.in_scope(|| tracing::info!(%reason, retry_in = ?delay, "retrying a timer"));
            (Settle::Retry { at: now + delay, error: reason, counted }, "retried")
        }
        Fate::Dead(error) => {
            span.in_scope(|| tracing::warn!(%error, "keeping a timer as dead"));
            (Settle::Dead { error, next_tick }, "dead")
        }
    };
    runtime.metrics().timer_fired(&timer.component, outcome, late);
    (settle, span)
}

/// How the timer's deliveries are retried: its component's timers grant for a timer the
/// component scheduled, the default for a schedule's tick; none when neither declares its
/// event type (a component can write its own database, timers table included).
fn policy(runtime: &Runtime, timer: &DueTimer) -> Option<Retry> {
    let manifest = runtime.manifest();
    match &timer.schedule {
        Some(_) => manifest
            .schedule_triggers
            .iter()
            .any(|t| t.component == timer.component && t.event == timer.event_type)
            .then(Retry::default),
        None => {
            let grants = &manifest.component(&timer.component)?.grants;
            // The outcomes of its OCPP calls come to it as timers too.
            if grants.ocpp && timer.event_type == ocpp::RESULT_EVENT {
                return Some(Retry::default());
            }
            let grant = grants.timers.as_ref()?;
            grant.events.contains(&timer.event_type).then_some(grant.retry)
        }
    }
}
