//! The `templates` capability: renders an event with a notification-template component
//! on a caller's behalf. A template, like a pricing rule, runs in a store of its own.

mod host;

use wasmtime::component::Linker;

use super::callee::{CalleeGrant, Caller};
use super::shape::{Capability, Load, Start, View, ViewOf};
use crate::manifest::Grants;

pub(crate) struct Templates;

impl Capability for Templates {
    const NAME: &'static str = "templates";
    const GRANT_HINT: &'static str = "add a [component.<id>.templates] table";
    const INTERFACES: &'static [&'static str] = &[joule_world::interface_names::TEMPLATES];
    type Component = CalleeGrant;
    type State = Caller;

    fn is_granted(grants: &Grants) -> bool {
        grants.templates.is_some()
    }

    fn component(&self, load: &Load<'_>) -> CalleeGrant {
        let names = load.config.grants.templates.as_ref().map(|g| g.names.clone()).unwrap_or_default();
        CalleeGrant::new(names, load.callees.clone())
    }

    fn state(grant: &CalleeGrant, start: &Start<'_>) -> Caller {
        grant.caller(start.chain)
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, Caller>,
    ) -> anyhow::Result<()> {
        Ok(joule_world::templates::add_to_linker::<_, ViewOf<Caller>>(linker, view)?)
    }
}
