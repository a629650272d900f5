//! The shape every capability has, so that the invocation state, the linker and the import
//! check are assembled from one list (see `capabilities!` in `mod.rs`) and a new capability
//! is a folder of its own plus one line there.

use std::sync::{Arc, Weak};

use wasmtime::component::{HasData, Linker};

use super::callee::{CallChain, Callees};
use crate::database::DatabaseState;
use crate::manifest::{ComponentConfig, Grants};

/// A capability: what a manifest grants, and the host side of its WIT interface.
///
/// The value holds what every component shares (its backends), built once at startup.
pub(crate) trait Capability: Send + Sync + 'static {
    /// How errors name it, such as "key-value".
    const NAME: &'static str;
    /// How to grant it in `spin.toml`.
    const GRANT_HINT: &'static str;
    /// The `joule:platform` interfaces it provides, as `package/interface@version`.
    const INTERFACES: &'static [&'static str];

    /// What it keeps for one component, built once at load from the component's grant.
    type Component: Send + Sync + 'static;
    /// What it keeps for one invocation.
    type State: Send + 'static;

    fn is_granted(grants: &Grants) -> bool;

    fn component(&self, load: &Load<'_>) -> Self::Component;

    fn state(component: &Self::Component, start: &Start<'_>) -> Self::State;

    /// Links its interfaces; `view` reaches its state inside a store's data.
    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, Self::State>,
    ) -> anyhow::Result<()>;
}

/// What a capability sees of the component it is loaded for.
pub(crate) struct Load<'a> {
    pub component: &'a Arc<str>,
    pub config: &'a ComponentConfig,
    /// Where the rules and templates a component runs are found.
    pub callees: &'a Weak<dyn Callees>,
}

/// What a capability sees of the invocation it is started for.
pub(crate) struct Start<'a> {
    pub component: &'a Arc<str>,
    pub context: &'a InvocationContext,
    pub chain: &'a CallChain,
}

/// What triggered an invocation, carried into the events it publishes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvocationContext {
    pub correlation_id: Option<String>,
    /// The W3C trace context of the invocation.
    pub traceparent: Option<String>,
    /// The verified caller of the request, for the `identity` capability.
    pub caller: Option<Arc<joule_identity::Principal>>,
    /// On whose behalf the invocation acts: the caller's subject, or the `actor` of the
    /// event being handled; carried into the events it publishes.
    pub actor: Option<String>,
}

/// A capability's view of one invocation: its own state, and the unit of work, which
/// capabilities that write (SQL, events) write within.
pub struct View<'a, S> {
    pub state: &'a mut S,
    pub unit: &'a mut DatabaseState,
}

/// The `HasData` of a capability whose state is `S`, for the bindings' `add_to_linker`.
pub(crate) struct ViewOf<S>(std::marker::PhantomData<S>);

impl<S: 'static> HasData for ViewOf<S> {
    type Data<'a> = View<'a, S>;
}
