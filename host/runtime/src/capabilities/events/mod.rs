//! The `events` capability: publishing inside the unit of work. An event goes to the
//! outbox in the invocation's transaction, so it leaves only if the invocation commits.

mod host;

use std::collections::BTreeSet;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker};

use super::database::DatabaseState;
use crate::invocation::InvocationState;

/// The largest `data` an event may carry.
pub const MAX_DATA_BYTES: usize = 256 * 1024;

/// What an invocation was triggered by, carried into the events it publishes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvocationContext {
    pub correlation_id: Option<String>,
    /// The W3C trace context of the invocation.
    pub traceparent: Option<String>,
}

/// The events side of one invocation.
pub struct EventsState {
    component: Arc<str>,
    publishes: Arc<BTreeSet<String>>,
    context: InvocationContext,
}

impl EventsState {
    pub fn new(component: Arc<str>, publishes: Arc<BTreeSet<String>>, context: InvocationContext) -> Self {
        Self { component, publishes, context }
    }

    pub(crate) fn context(&self) -> &InvocationContext {
        &self.context
    }
}

/// Publishing needs the invocation's transaction as well as its grants.
pub struct EventsView<'a> {
    events: &'a EventsState,
    database: &'a mut DatabaseState,
}

struct Events;

impl HasData for Events {
    type Data<'a> = EventsView<'a>;
}

pub(crate) fn add_to_linker(linker: &mut Linker<InvocationState>) -> anyhow::Result<()> {
    Ok(joule_world::events::add_to_linker::<_, Events>(linker, |state| EventsView {
        events: &state.events,
        database: &mut state.database,
    })?)
}
