//! The `events` capability: publishing inside the unit of work. An event goes to the
//! outbox in the invocation's transaction, so it leaves only if the invocation commits.

mod host;

use std::collections::BTreeSet;
use std::sync::Arc;

use wasmtime::component::Linker;

use super::shape::{Capability, InvocationContext, Load, Start, View, ViewOf};
use crate::manifest::Grants;

/// The largest `data` an event may carry.
pub const MAX_DATA_BYTES: usize = 256 * 1024;

pub(crate) struct Events;

/// The events side of one invocation: who publishes, what it may, and in what context.
pub struct EventsState {
    component: Arc<str>,
    publishes: Arc<BTreeSet<String>>,
    context: InvocationContext,
}

impl Capability for Events {
    const NAME: &'static str = "events";
    const GRANT_HINT: &'static str = "list the event types in [component.<id>.events] publish = [...]";
    const INTERFACES: &'static [&'static str] = &[joule_world::interface_names::EVENTS];
    /// The event types the component may publish.
    type Component = Arc<BTreeSet<String>>;
    type State = EventsState;

    fn is_granted(grants: &Grants) -> bool {
        !grants.events_publish.is_empty()
    }

    fn component(&self, load: &Load<'_>) -> Arc<BTreeSet<String>> {
        Arc::new(load.config.grants.events_publish.clone())
    }

    fn state(publishes: &Arc<BTreeSet<String>>, start: &Start<'_>) -> EventsState {
        EventsState { component: start.component.clone(), publishes: publishes.clone(), context: start.context.clone() }
    }

    fn add_to_linker<T: Send + 'static>(linker: &mut Linker<T>, view: fn(&mut T) -> View<'_, EventsState>) -> anyhow::Result<()> {
        Ok(joule_world::events::add_to_linker::<_, ViewOf<EventsState>>(linker, view)?)
    }
}
