//! The `pricing` capability: runs a pricing-rule component on a caller's behalf.
//!
//! A rule is a pure function: it runs in a store of its own, with its own limits and no
//! capabilities, and its version is reported so a price can be pinned to it.

mod host;

use wasmtime::component::Linker;

use super::callee::{CalleeGrant, Caller};
use super::shape::{Capability, Load, Start, View, ViewOf};
use crate::manifest::Grants;

pub(crate) struct Pricing;

impl Capability for Pricing {
    const NAME: &'static str = "pricing";
    const GRANT_HINT: &'static str = "add a [component.<id>.pricing] table";
    const INTERFACES: &'static [&'static str] = &[joule_world::interface_names::PRICING];
    type Component = CalleeGrant;
    type State = Caller;

    fn is_granted(grants: &Grants) -> bool {
        grants.pricing.is_some()
    }

    fn component(&self, load: &Load<'_>) -> CalleeGrant {
        let names = load.config.grants.pricing.as_ref().map(|g| g.rules.clone()).unwrap_or_default();
        CalleeGrant::new(names, load.callees.clone())
    }

    fn state(grant: &CalleeGrant, start: &Start<'_>) -> Caller {
        grant.caller(start.chain)
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, Caller>,
    ) -> anyhow::Result<()> {
        Ok(joule_world::pricing::add_to_linker::<_, ViewOf<Caller>>(linker, view)?)
    }
}
