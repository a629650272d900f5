use std::sync::Arc;

use joule_world::pricing::{Host, QuoteResult};
use joule_world::pricing_types::{Error, QuoteInput};

use crate::capabilities::callee::{Callees, Caller, Refusal};
use crate::capabilities::shape::View;

/// Where `rule` is found, if the caller may run it.
fn callees(caller: &Caller, rule: &str) -> Result<Arc<dyn Callees>, Error> {
    caller.callees(rule).map_err(|refusal| match refusal {
        Refusal::NotGranted => Error::RuleUnavailable(format!("the manifest does not grant the pricing rule {rule:?}")),
        Refusal::ShuttingDown => Error::RuleFailed("the host is shutting down".into()),
    })
}

impl Host for View<'_, Caller> {
    async fn quote(&mut self, rule: String, version: Option<u32>, input: QuoteInput) -> wasmtime::Result<Result<QuoteResult, Error>> {
        Ok(match callees(self.state, &rule) {
            Ok(callees) => callees.quote(&self.state.chain, &rule, version, &input).await,
            Err(e) => Err(e),
        })
    }

    async fn rule_version(&mut self, rule: String) -> wasmtime::Result<Result<u32, Error>> {
        Ok(callees(self.state, &rule).and_then(|callees| callees.rule_version(&rule)))
    }
}
