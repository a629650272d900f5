//! The `identity` capability: the verified caller of the request being handled, as the HTTP
//! trigger established it (`InvocationContext::caller`), and the actor on whose behalf an
//! invocation acts.

mod host;

use std::sync::Arc;

use joule_identity::Principal;
use wasmtime::component::Linker;

use super::shape::{Capability, Load, Start, View, ViewOf};
use crate::manifest::Grants;

pub(crate) struct Identity;

/// The identity side of one invocation.
pub struct IdentityState {
    caller: Option<Arc<Principal>>,
    actor: Option<String>,
}

impl Capability for Identity {
    const NAME: &'static str = "identity";
    const GRANT_HINT: &'static str = "add `identity = true` to its [component.<id>] table";
    const INTERFACES: &'static [&'static str] = &[joule_world::interface_names::IDENTITY];
    type Component = ();
    type State = IdentityState;

    fn is_granted(grants: &Grants) -> bool {
        grants.identity
    }

    fn component(&self, _: &Load<'_>) {}

    fn state((): &(), start: &Start<'_>) -> IdentityState {
        IdentityState { caller: start.context.caller.clone(), actor: start.context.actor.clone() }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, IdentityState>,
    ) -> anyhow::Result<()> {
        Ok(joule_world::identity::add_to_linker::<_, ViewOf<IdentityState>>(linker, view)?)
    }
}
