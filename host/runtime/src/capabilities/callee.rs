//! Running another component on a caller's behalf, as the `pricing` and `templates`
//! capabilities do: in a store of its own, with its own limits, within its own deadline.
//!
//! Rules and templates are pure (see `loader::prepare`), so a chain of calls is normally one
//! call deep. A call that comes back to a component already on the chain, or goes deeper than
//! [`MAX_CALL_DEPTH`], is refused: each link holds a pooled instance while it waits, and a
//! cycle would hold them all.

use std::sync::Arc;

use tracing::Instrument as _;
use wasmtime::Store;

use crate::component::LoadedComponent;
use crate::invocation::{Failure, InvocationState};

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
    fn to(&self, callee: &Arc<str>) -> Result<Vec<Arc<str>>, String> {
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

/// Runs `call` in a fresh invocation of `component`; a failure is described for the caller.
pub(crate) async fn call<T>(
    chain: &CallChain,
    component: &LoadedComponent,
    span: tracing::Span,
    call: impl AsyncFnOnce(&mut Store<InvocationState>) -> wasmtime::Result<T>,
) -> Result<T, String> {
    let callers = chain.to(&component.id)?;
    let mut invocation = component.called_by(callers).map_err(|e| format!("{e}; retry shortly"))?;
    let deadline = invocation.deadline();
    match tokio::time::timeout_at(deadline.into(), call(invocation.store()).instrument(span)).await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(trap)) => Err(format!("{:?} failed: {}", component.id, Failure::classify(&trap))),
        Err(_) => Err(format!("{:?} ran past its time limit", component.id)),
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
