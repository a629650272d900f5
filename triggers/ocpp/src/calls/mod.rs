//! Calls to charge points (the `ocpp` capability's other half). A committed call arrives as
//! an `ocpp.call.v1` event on the replicas' shared queue; whichever replica takes it looks
//! the charge point up and:
//! - hands it to the connection, when it holds the charge point: the connection sends it
//!   when no other CALL of the platform's is outstanding, and says how it ended;
//! - forwards it to the holding replica's own queue, when another live replica holds it
//!   (that queue hands what it still holds back to the shared queue if the replica dies);
//! - reports `not-connected` when no replica does.
//!
//! The delivery is settled only once the outcome is written for the calling component, so
//! a replica that dies leaves its calls to the broker to deliver again. Before a connection
//! writes a call to its socket, it records that in the directory: a call found sent already
//! was maybe received from a replica that died, and is reported `failed`, never sent twice.
//! Calls still queued behind it were not sent, and go to the charge point's new connection.
//!
//! A call for a charge point this replica holds is queued on its connection as it is taken
//! from the broker, before anything else is awaited, so such calls go out in the order they
//! were committed; a call that had to be forwarded may overtake one queued meanwhile.

mod directory;
mod outcome;

use std::sync::Arc;
use std::time::Duration;

use joule_runtime::Runtime;
use joule_runtime::capabilities::ocpp::{CALL_EVENT, OcppCall};
use joule_runtime::events::{Delivery, Envelope, Handover, QueueSpec};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use directory::{Directory, Holder};
pub use outcome::Outcome;
use outcome::Origin;

use crate::Shared;

/// Calls a replica works on at once; each may wait for its charge point's answer.
const IN_FLIGHT: u16 = 2048;
/// How long a message may wait in a gone replica's queue before it is handed back.
const HANDOVER_AFTER: Duration = Duration::from_secs(5);
/// How long an unused replica queue is kept.
const QUEUE_EXPIRES: Duration = Duration::from_secs(600);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A call handed to a connection, and where it says how it went.
pub struct Outgoing {
    pub call: OcppCall,
    pub sent: oneshot::Sender<Outcome>,
}

/// A connection's queue of calls to send; its end lives in the connection's loop.
pub type CallQueue = mpsc::UnboundedReceiver<Outgoing>;

/// Where a call goes from here.
enum Route {
    Local,
    Forward(String),
    NotConnected,
}

pub struct Router {
    runtime: Arc<Runtime>,
    directory: Directory,
    /// This replica's id: fixed when the broker is this process's alone, since its queue
    /// comes back with it after a restart.
    replica: String,
    /// Whether other replicas share the broker, and with it the directory.
    replicated: bool,
}

impl Router {
    pub fn new(runtime: Arc<Runtime>) -> Self {
        let replicated = runtime.broker().shared();
        let replica = if replicated { uuid::Uuid::now_v7().to_string() } else { "local".to_string() };
        let directory = Directory::new(runtime.key_value().clone(), &runtime.manifest().application.name);
        Self { runtime, directory, replica, replicated }
    }

    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Records that the call is about to be written to a socket; false if it was before.
    pub async fn first_send(&self, request_id: &str) -> anyhow::Result<bool> {
        self.directory.first_send(request_id).await
    }

    fn shared_queue(&self) -> QueueSpec {
        QueueSpec {
            name: self.runtime.host_queue_name("ocpp-calls"),
            patterns: vec![CALL_EVENT.to_string()],
            prefetch: IN_FLIGHT,
            retry_delays: Vec::new(),
            handover: None,
        }
    }

    fn replica_queue(&self) -> QueueSpec {
        QueueSpec {
            name: self.runtime.host_queue_name(&format!("ocpp-calls.{}", self.replica)),
            patterns: vec![forward_key(&self.replica)],
            prefetch: IN_FLIGHT,
            retry_delays: Vec::new(),
            handover: Some(Handover { after: HANDOVER_AFTER, routing_key: CALL_EVENT.to_string(), expires: QUEUE_EXPIRES }),
        }
    }

    /// Records that this replica holds the charge point's new connection.
    pub async fn connected(&self, charge_point_id: &str, connection_id: &str) {
        if !self.replicated {
            return;
        }
        let holder = Holder { replica: self.replica.clone(), connection_id: connection_id.to_string() };
        if let Err(e) = self.directory.hold(charge_point_id, &holder).await {
            tracing::warn!(charge_point = %charge_point_id, error = %format!("{e:#}"), "could not record the connection in the directory");
        }
    }

    pub async fn disconnected(&self, charge_point_id: &str, connection_id: &str) {
        if !self.replicated {
            return;
        }
        if let Err(e) = self.directory.release(charge_point_id, connection_id).await {
            tracing::warn!(charge_point = %charge_point_id, error = %format!("{e:#}"), "could not remove the connection from the directory");
        }
    }

    /// Takes calls from the shared queue and this replica's own, and keeps this replica's
    /// directory entries alive, until `stopping`.
    pub async fn run(self: Arc<Self>, shared: Arc<Shared>, stopping: CancellationToken) {
        let tasks = TaskTracker::new();
        let in_flight = Arc::new(Semaphore::new(usize::from(IN_FLIGHT)));
        for queue in [self.shared_queue(), self.replica_queue()] {
            let (router, shared, stopping, in_flight) = (self.clone(), shared.clone(), stopping.clone(), in_flight.clone());
            tasks.spawn(async move { router.consume(shared, queue, in_flight, stopping).await });
        }
        if self.replicated {
            let (router, shared, stopping) = (self.clone(), shared.clone(), stopping.clone());
            tasks.spawn(async move { router.renew(shared, stopping).await });
        }
        tasks.close();
        tasks.wait().await;
    }

    async fn renew(&self, shared: Arc<Shared>, stopping: CancellationToken) {
        let mut ticks = tokio::time::interval(directory::RENEW_EVERY);
        loop {
            tokio::select! {
                () = stopping.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let renewed = async {
                self.directory.renew_replica(&self.replica).await?;
                for (charge_point_id, connection_id) in shared.connections.held() {
                    let holder = Holder { replica: self.replica.clone(), connection_id };
                    self.directory.hold(&charge_point_id, &holder).await?;
                }
                anyhow::Ok(())
            };
            if let Err(e) = renewed.await {
                tracing::warn!(error = %format!("{e:#}"), "could not renew this replica's directory entries");
            }
        }
    }

    async fn consume(self: Arc<Self>, shared: Arc<Shared>, queue: QueueSpec, in_flight: Arc<Semaphore>, stopping: CancellationToken) {
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

/// The routing key of calls forwarded to `replica`: outside `ocpp.*`, so no component's
/// pattern for the host's OCPP events catches them.
fn forward_key(replica: &str) -> String {
    format!("joule.ocpp-forward.{replica}")
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
