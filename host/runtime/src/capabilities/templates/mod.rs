//! The `templates` capability: renders an event with a notification-template component
//! on a caller's behalf. A template, like a pricing rule, runs in a store of its own.

mod host;

use std::collections::BTreeSet;
use std::sync::{Arc, Weak};

use wasmtime::component::{HasData, Linker};

use crate::capabilities::callee::CallChain;
use crate::invocation::InvocationState;
use crate::registry::Registry;

/// The templates side of one invocation.
pub struct TemplatesState {
    registry: Weak<Registry>,
    /// The templates the caller may run; empty means any.
    names: Arc<BTreeSet<String>>,
    /// Who is calling, for the callee's chain.
    chain: CallChain,
}

impl TemplatesState {
    pub(crate) fn new(registry: Weak<Registry>, names: Arc<BTreeSet<String>>, chain: CallChain) -> Self {
        Self { registry, names, chain }
    }
}

struct Templates;

impl HasData for Templates {
    type Data<'a> = &'a mut TemplatesState;
}

pub(crate) fn add_to_linker(linker: &mut Linker<InvocationState>) -> anyhow::Result<()> {
    Ok(joule_world::templates::add_to_linker::<_, Templates>(linker, |state| &mut state.templates)?)
}
