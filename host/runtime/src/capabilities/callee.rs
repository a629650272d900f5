//! Running another component on a caller's behalf, as the `pricing` and `templates`
//! capabilities do. [`Callees`] finds and runs the callee (the registry does, in a store of
//! the callee's own, with its own limits and deadline); the capabilities check the grant.
//!
//! Rules and templates are pure (see `loader::prepare`), so a chain of calls is normally one
//! call deep. A call that comes back to a component already on the chain, or goes deeper than
//! [`MAX_CALL_DEPTH`], is refused: each link holds a pooled instance while it waits, and a
//! cycle would hold them all.

use std::collections::BTreeSet;
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use joule_world::event_types::Event;
use joule_world::message_types::Message;
use joule_world::pricing::QuoteResult;
use joule_world::pricing_types::{self, QuoteInput};

/// Components on one chain of calls, the outermost caller included.
pub(crate) const MAX_CALL_DEPTH: usize = 4;

/// The components an invocation runs on behalf of, and its own.
#[derive(Clone)]
pub(crate) struct CallChain {
    /// Outermost first; empty for an invocation a trigger started.
    pub callers: Vec<Arc<str>>,
    pub component: Arc<str>,
}

impl CallChain {
    /// The chain a call from this invocation to `callee` would make, if it may be made.
    pub(crate) fn to(&self, callee: &Arc<str>) -> Result<Vec<Arc<str>>, String> {
        let mut chain = self.callers.clone();
        chain.push(self.component.clone());
        let path = || chain.iter().map(|id| format!("{id:?}")).collect::<Vec<_>>().join(" -> ");
        if chain.contains(callee) {
            return Err(format!("calling {callee:?} from {} would call it again; calls must not cycle", path()));
        }
        if chain.len() >= MAX_CALL_DEPTH {
            return Err(format!("calling {callee:?} from {} goes deeper than {MAX_CALL_DEPTH} components", path()));
        }
        Ok(chain)
    }
}

/// The components a caller may run on its behalf: pricing rules and notification templates.
#[async_trait]
pub(crate) trait Callees: Send + Sync {
    /// The active version of the pricing rule `rule`.
    fn rule_version(&self, rule: &str) -> Result<u32, pricing_types::Error>;

    /// Prices `input` with `rule`, at `version` when a price is pinned to one.
    async fn quote(
        &self,
        chain: &CallChain,
        rule: &str,
        version: Option<u32>,
        input: &QuoteInput,
    ) -> Result<QuoteResult, pricing_types::Error>;

    /// Renders `event` with the notification template `template`; the error says why not.
    async fn render(&self, chain: &CallChain, template: &str, event: &Event) -> Result<Option<Message>, String>;
}

/// The callees one component may run (empty: any), and where they are found; built once
/// at load from its `pricing` or `templates` grant.
#[derive(Clone)]
pub(crate) struct CalleeGrant {
    names: Arc<BTreeSet<String>>,
    callees: Weak<dyn Callees>,
}

impl CalleeGrant {
    pub(crate) fn new(names: BTreeSet<String>, callees: Weak<dyn Callees>) -> Self {
        Self { names: Arc::new(names), callees }
    }

    /// An invocation's side of the grant, on behalf of `chain`.
    pub(crate) fn caller(&self, chain: &CallChain) -> Caller {
        Caller { grant: self.clone(), chain: chain.clone() }
    }
}

/// What one invocation may call, and on whose behalf.
pub struct Caller {
    grant: CalleeGrant,
    pub(crate) chain: CallChain,
}

/// Why a caller may not run a callee.
pub(crate) enum Refusal {
    NotGranted,
    ShuttingDown,
}

impl Caller {
    /// Where `name` is found, if the grant allows running it.
    pub(crate) fn callees(&self, name: &str) -> Result<Arc<dyn Callees>, Refusal> {
        if !self.grant.names.is_empty() && !self.grant.names.contains(name) {
            return Err(Refusal::NotGranted);
        }
        self.grant.callees.upgrade().ok_or(Refusal::ShuttingDown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(callers: &[&str], component: &str) -> CallChain {
        CallChain { callers: callers.iter().map(|&id| Arc::from(id)).collect(), component: component.into() }
    }

    #[test]
    fn a_call_back_to_a_component_on_the_chain_is_refused() {
        let error = chain(&["tariffs"], "a").to(&"tariffs".into()).unwrap_err();
        assert!(error.contains("\"tariffs\" -> \"a\"") && error.contains("cycle"), "{error}");
        assert!(chain(&[], "a").to(&"a".into()).is_err(), "nor to itself");
        let fine = chain(&[], "tariffs").to(&"ocpi".into()).unwrap();
        assert_eq!(fine, vec![Arc::<str>::from("tariffs")]);
    }

    #[test]
    fn a_chain_is_bounded() {
        let deep = chain(&["a", "b", "c"], "d");
        let error = deep.to(&"e".into()).unwrap_err();
        assert!(error.contains(&MAX_CALL_DEPTH.to_string()), "{error}");
        assert!(chain(&["a", "b"], "c").to(&"d".into()).is_ok());
    }
}
