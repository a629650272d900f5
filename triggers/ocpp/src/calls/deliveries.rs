//! Taking calls from the broker: each delivery is read, queued on the charge point's
//! connection if this replica holds it (before anything is awaited, so in delivery order),
//! else routed through the directory, and settled once its outcome is written for the caller.

use std::sync::Arc;
use std::time::Duration;

use joule_runtime::capabilities::ocpp::OcppCall;
use joule_runtime::events::{Delivery, Envelope, QueueSpec};
use tokio::sync::{Semaphore, oneshot};
use tokio_util::sync::CancellationToken;

use super::outcome::{self, Origin, Outcome};
use super::{Outgoing, Router, forward_key};
use crate::Shared;

const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Where a call goes from here.
enum Route {
    Local,
    Forward(String),
    NotConnected,
}

impl Router {
    /// Consumes `queue` until `stopping`, declaring it again whenever the broker comes back.
    pub(super) async fn consume(self: Arc<Self>, shared: Arc<Shared>, queue: QueueSpec, in_flight: Arc<Semaphore>, stopping: CancellationToken) {
        let mut backoff = Duration::from_millis(200);
        loop {
            let consumed = tokio::select! {
                () = stopping.cancelled() => return,
                consumed = self.consume_queue(&shared, &queue, &in_flight, &stopping) => consumed,
            };
            tracing::warn!(queue = %queue.name, error = %format!("{consumed:#}"), retry_in = ?backoff, "the OCPP call consumer lost the broker; reconnecting");
            tokio::select! {
                () = stopping.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Declares `queue` and takes its deliveries until the broker goes away.
    async fn consume_queue(
        self: &Arc<Self>,
        shared: &Arc<Shared>,
        queue: &QueueSpec,
        in_flight: &Arc<Semaphore>,
        stopping: &CancellationToken,
    ) -> anyhow::Error {
        let broker = self.runtime.broker();
        let mut deliveries = match broker.declare(queue).await {
            Ok(()) => match broker.consume(queue).await {
                Ok(deliveries) => deliveries,
                Err(e) => return e,
            },
            Err(e) => return e,
        };
        loop {
            let permit = in_flight.clone().acquire_owned().await.expect("the semaphore is never closed");
            let delivery = match deliveries.next().await {
                Ok(delivery) => delivery,
                Err(e) => return e,
            };
            let (router, shared, stopping) = (self.clone(), shared.clone(), stopping.clone());
            let taken = match Taken::read(delivery) {
                Ok(taken) => taken,
                Err((delivery, why)) => {
                    shared.tasks.clone().spawn(async move { dead_letter(delivery, &why).await });
                    continue;
                }
            };
            // Queued on its connection here, before anything is awaited: in delivery order.
            let queued = queue_locally(&shared, &taken.call);
            shared.tasks.clone().spawn(async move {
                router.take(&shared, taken, queued, &stopping).await;
                drop(permit);
            });
        }
    }

    /// Sees one delivered call through to its outcome, written for the caller, then settles it.
    async fn take(&self, shared: &Shared, taken: Taken, mut queued: Option<oneshot::Receiver<Outcome>>, stopping: &CancellationToken) {
        let Taken { delivery, envelope, call } = taken;
        let span = tracing::info_span!("ocpp.outgoing", charge_point = %call.charge_point_id, action = %call.action, request = %call.request_id);
        let origin = Origin {
            correlation_id: envelope.correlationid.clone(),
            traceparent: envelope.traceparent.clone(),
            actor: envelope.actor.clone(),
        };
        let outcome = loop {
            let attempt = tracing::Instrument::instrument(self.attempt(shared, &envelope, &call, queued.take()), span.clone()).await;
            match attempt {
                Ok(Some(outcome)) => break outcome,
                // Forwarded: the holding replica settles it.
                Ok(None) => return ack(delivery).await,
                Err(e) => {
                    tracing::warn!(request = %call.request_id, error = %format!("{e:#}"), "could not route an OCPP call; trying again");
                }
            }
            // Left unsettled at shutdown: the broker delivers it again, here after a restart
            // or to another replica.
            tokio::select! {
                () = stopping.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        };
        // Its connection closed for the shutdown: left to the broker, for whichever replica
        // the charge point connects to next.
        if stopping.is_cancelled() && matches!(outcome, Outcome::NotConnected) {
            return;
        }
        let status = outcome.event(&call)["status"].as_str().unwrap_or_default().to_string();
        let action = if matches!(outcome, Outcome::Invalid(_)) { "invalid" } else { call.action.as_str() };
        self.runtime.metrics().ocpp_call(action, &status);
        let mut backoff = Duration::from_millis(200);
        while let Err(e) = outcome::report(&self.runtime, &call, &origin, &outcome).await {
            tracing::warn!(request = %call.request_id, error = %e, retry_in = ?backoff, "could not write an OCPP call's result; trying again");
            tokio::select! {
                () = stopping.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        ack(delivery).await;
    }

    /// Routes the call: its outcome, or `None` when another replica took it over. `queued`:
    /// it is already queued on a connection here.
    async fn attempt(
        &self,
        shared: &Shared,
        envelope: &Envelope,
        call: &OcppCall,
        queued: Option<oneshot::Receiver<Outcome>>,
    ) -> anyhow::Result<Option<Outcome>> {
        if let Some(outcome) = queued {
            match outcome.await {
                Ok(outcome) => return Ok(Some(outcome)),
                // The connection ended before sending it: routed again after a moment, in
                // which the charge point may have reconnected.
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
        match self.route(shared, &call.charge_point_id).await? {
            Route::Local => match queue_locally(shared, call) {
                Some(outcome) => Ok(Some(outcome.await.unwrap_or(Outcome::NotConnected))),
                None => Ok(Some(Outcome::NotConnected)),
            },
            Route::Forward(replica) => {
                let mut forwarded = envelope.clone();
                forwarded.event_type = forward_key(&replica);
                self.runtime.broker().publish(&[forwarded]).await?;
                self.runtime.metrics().ocpp_call_forwarded();
                Ok(None)
            }
            Route::NotConnected => Ok(Some(Outcome::NotConnected)),
        }
    }

    async fn route(&self, shared: &Shared, charge_point_id: &str) -> anyhow::Result<Route> {
        if shared.connections.queue(charge_point_id).is_some() {
            return Ok(Route::Local);
        }
        if !self.replicated {
            return Ok(Route::NotConnected);
        }
        Ok(match self.directory.holder(charge_point_id).await? {
            Some(holder) if holder.replica != self.replica && self.directory.replica_alive(&holder.replica).await? => {
                Route::Forward(holder.replica)
            }
            _ => Route::NotConnected,
        })
    }
}

/// A delivered call, read.
struct Taken {
    delivery: Delivery,
    envelope: Envelope,
    call: OcppCall,
}

impl Taken {
    fn read(delivery: Delivery) -> Result<Self, (Delivery, String)> {
        let envelope = match Envelope::parse(&delivery.body) {
            Ok(envelope) => envelope,
            Err(e) => return Err((delivery, e)),
        };
        match serde_json::from_value(envelope.data.clone()) {
            Ok(call) => Ok(Self { delivery, envelope, call }),
            Err(e) => Err((delivery, format!("not an OCPP call: {e}"))),
        }
    }
}

/// Queues the call on the charge point's connection, if this replica holds it; where its
/// outcome will come. A connection that ends first drops it unsent (the receiver errs).
fn queue_locally(shared: &Shared, call: &OcppCall) -> Option<oneshot::Receiver<Outcome>> {
    let connection = shared.connections.queue(&call.charge_point_id)?;
    let (sent, outcome) = oneshot::channel();
    connection.send(Outgoing { call: call.clone(), sent }).ok()?;
    Some(outcome)
}


async fn ack(delivery: Delivery) {
    if let Err(e) = delivery.settle.ack().await {
        tracing::warn!(error = %format!("{e:#}"), "could not settle an OCPP call; it will come again and be recognised");
    }
}

async fn dead_letter(delivery: Delivery, why: &str) {
    tracing::warn!(why, "an unreadable OCPP call goes to the dead-letter queue");
    if let Err(e) = delivery.settle.dead_letter(why, delivery.attempt).await {
        tracing::warn!(error = %format!("{e:#}"), "could not dead-letter an unreadable OCPP call");
    }
}
