//! One invocation: a fresh `Store` and instance, its limits, and its unit of work.

mod event;
mod failure;
mod runner;
mod start;

use std::time::Instant;

use joule_world::database;
use tokio::sync::OwnedSemaphorePermit;
use wasmtime::Store;

use crate::database::DatabaseState;
use crate::events::Envelope;
use crate::state::InvocationState;
use crate::timers::NewTimer;

/// The `source` of the events the host publishes itself, rather than a component.
pub const HOST_SOURCE: &str = "joule";

pub use event::{Delivered, Fate, deliver};
pub use failure::Failure;
pub use runner::{Call, Delivery, Ended, GuestFuture, GuestResult, Verdict, run};

/// A running invocation: its store, deadline and concurrency permit. [`run`] settles its unit
/// of work; dropping it rolls the unit of work back.
pub struct Invocation {
    store: Store<InvocationState>,
    deadline: Instant,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Invocation {
    pub(crate) fn new(store: Store<InvocationState>, deadline: Instant, permit: Option<OwnedSemaphorePermit>) -> Self {
        Self { store, deadline, _permit: permit }
    }

    pub fn store(&mut self) -> &mut Store<InvocationState> {
        &mut self.store
    }

    /// The W3C trace context the invocation runs in, to hand on to the guest.
    pub fn traceparent(&self) -> Option<&str> {
        self.store.data().context.traceparent.as_deref()
    }

    /// When the component's time limit runs out.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Publishes an event of the host's own (such as `charge-point.connected.v1`) within this
    /// unit of work: it leaves only if the unit commits, through the component's outbox, with
    /// [`HOST_SOURCE`] as its source and the invocation's actor, correlation and trace.
    pub async fn publish_host_event(&mut self, event_type: &str, data: serde_json::Value) -> Result<(), database::Error> {
        let state = self.store.data_mut();
        let context = &state.context;
        let mut envelope = Envelope::new(
            uuid::Uuid::now_v7().to_string(),
            HOST_SOURCE,
            event_type,
            data,
            context.correlation_id.clone(),
            context.traceparent.clone(),
        );
        envelope.actor = context.actor.clone();
        let bytes = envelope.data.to_string().len();
        state.unit.enqueue(envelope, bytes).await
    }

    /// Delivers an event of the host's own (such as `ocpp.call-result.v1`) to this component's
    /// own handler once this unit of work commits, as a timer due now, with its retries and
    /// dead letters. `id` is the event's id: written again, it conflicts while the first is
    /// pending (a constraint violation), and the inbox drops it once that was handled.
    pub async fn deliver_host_event(&mut self, id: String, event_type: &str, data: serde_json::Value) -> Result<(), database::Error> {
        let state = self.store.data_mut();
        let context = &state.context;
        let timer = NewTimer {
            id,
            key: None,
            event_type: event_type.to_string(),
            data,
            due_at: chrono::Utc::now(),
            correlation_id: context.correlation_id.clone(),
            traceparent: context.traceparent.clone(),
            actor: context.actor.clone(),
        };
        state.unit.schedule_timer(&timer).await
    }

    /// Records the event this invocation handles in the component's inbox, within the unit
    /// of work; false when the component already handled it.
    pub(crate) async fn record_delivery(&mut self, event_id: &str) -> Result<bool, database::Error> {
        self.store.data_mut().unit.record_delivery(event_id).await
    }

    /// Ends the guest's part: the instance and every resource it held are dropped,
    /// and what remains is the unit of work to commit or roll back.
    pub(crate) fn into_unit_of_work(mut self) -> UnitOfWork {
        let database = self.store.data_mut().unit.take();
        UnitOfWork { database, _permit: self._permit }
    }
}

/// What an invocation changed, waiting to be committed or rolled back as a whole.
/// Dropping it rolls back.
pub(crate) struct UnitOfWork {
    database: DatabaseState,
    _permit: Option<OwnedSemaphorePermit>,
}

impl UnitOfWork {
    pub async fn commit(mut self) -> Result<(), database::Error> {
        self.database.finish(true).await
    }

    pub async fn rollback(mut self) -> Result<(), database::Error> {
        self.database.finish(false).await
    }
}
