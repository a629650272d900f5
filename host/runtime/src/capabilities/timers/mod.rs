//! The `timers` capability: "deliver this event to me at that time", inside the unit of
//! work. A timer is written in the invocation's transaction, so it exists only if the
//! invocation commits; the timer trigger delivers it to the component's own handler.

mod host;

use std::collections::BTreeSet;
use std::sync::Arc;

use wasmtime::component::Linker;

use super::shape::{Capability, InvocationContext, Load, Start, View, ViewOf};
use crate::manifest::Grants;

pub(crate) struct Timers;

/// The timers side of one invocation: whose timers, which event types, in what context.
pub struct TimersState {
    component: Arc<str>,
    events: Arc<BTreeSet<String>>,
    context: InvocationContext,
}

impl Capability for Timers {
    const NAME: &'static str = "timers";
    const GRANT_HINT: &'static str = "list the event types its timers deliver in [component.<id>] timers = { events = [...] }";
    const INTERFACES: &'static [&'static str] = &[joule_world::interface_names::TIMERS];
    /// The event types its timers may deliver.
    type Component = Arc<BTreeSet<String>>;
    type State = TimersState;

    fn is_granted(grants: &Grants) -> bool {
        grants.timers.is_some()
    }

    fn component(&self, load: &Load<'_>) -> Arc<BTreeSet<String>> {
        Arc::new(load.config.grants.timers.as_ref().map(|grant| grant.events.clone()).unwrap_or_default())
    }

    fn state(events: &Arc<BTreeSet<String>>, start: &Start<'_>) -> TimersState {
        TimersState { component: start.component.clone(), events: events.clone(), context: start.context.clone() }
    }

    fn add_to_linker<T: Send + 'static>(linker: &mut Linker<T>, view: fn(&mut T) -> View<'_, TimersState>) -> anyhow::Result<()> {
        Ok(joule_world::timers::add_to_linker::<_, ViewOf<TimersState>>(linker, view)?)
    }
}
