//! Calls to charge points (the `ocpp` capability's other half): the router (here), taking
//! deliveries (`deliveries`), the directory, and outcomes. A committed call arrives as
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

mod deliveries;
mod directory;
mod outcome;

use std::sync::Arc;
use std::time::Duration;

use joule_runtime::Runtime;
use joule_runtime::capabilities::ocpp::{CALL_EVENT, OcppCall};
use joule_runtime::events::{Handover, QueueSpec};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use directory::{Directory, Holder};
pub use outcome::Outcome;

use crate::Shared;

/// Calls a replica works on at once; each may wait for its charge point's answer.
const IN_FLIGHT: u16 = 2048;
/// How long a message may wait in a gone replica's queue before it is handed back.
const HANDOVER_AFTER: Duration = Duration::from_secs(5);
/// How long an unused replica queue is kept.
const QUEUE_EXPIRES: Duration = Duration::from_secs(600);

/// A call handed to a connection, and where it says how it went.
pub struct Outgoing {
    pub call: OcppCall,
    pub sent: oneshot::Sender<Outcome>,
}

/// A connection's queue of calls to send; its end lives in the connection's loop.
pub type CallQueue = mpsc::UnboundedReceiver<Outgoing>;


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
}

/// The routing key of calls forwarded to `replica`: outside `ocpp.*`, so no component's
/// pattern for the host's OCPP events catches them.
fn forward_key(replica: &str) -> String {
    format!("joule.ocpp-forward.{replica}")
}
