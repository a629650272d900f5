//! The `pricing` capability: runs a pricing-rule component on a caller's behalf.
//!
//! A rule is a pure function: it runs in a store of its own, with its own limits and no
//! capabilities, and its version is reported so a price can be pinned to it.

mod host;

use std::collections::BTreeSet;
use std::sync::{Arc, Weak};

use wasmtime::component::{HasData, Linker};

use crate::capabilities::callee::CallChain;
use crate::invocation::InvocationState;
use crate::registry::Registry;

/// The pricing side of one invocation.
pub struct PricingState {
    registry: Weak<Registry>,
    /// The rules the caller may run; empty means any.
    rules: Arc<BTreeSet<String>>,
    /// Who is calling, for the callee's chain.
    chain: CallChain,
}

impl PricingState {
    pub(crate) fn new(registry: Weak<Registry>, rules: Arc<BTreeSet<String>>, chain: CallChain) -> Self {
        Self { registry, rules, chain }
    }
}

struct Pricing;

impl HasData for Pricing {
    type Data<'a> = &'a mut PricingState;
}

pub(crate) fn add_to_linker(linker: &mut Linker<InvocationState>) -> anyhow::Result<()> {
    Ok(joule_world::pricing::add_to_linker::<_, Pricing>(linker, |state| &mut state.pricing)?)
}
