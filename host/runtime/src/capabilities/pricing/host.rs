use std::sync::Arc;

use joule_world::pricing::{Host, QuoteResult};
use joule_world::pricing_types::{Error, QuoteInput};

use super::PricingState;
use crate::capabilities::callee;
use crate::component::LoadedComponent;

impl PricingState {
    /// The rule component named `rule`, if the caller may run it.
    fn rule(&self, rule: &str) -> Result<Arc<LoadedComponent>, Error> {
        if !self.rules.is_empty() && !self.rules.contains(rule) {
            return Err(Error::RuleUnavailable(format!("the manifest does not grant the pricing rule {rule:?}")));
        }
        let registry = self.registry.upgrade().ok_or_else(|| Error::RuleFailed("the host is shutting down".into()))?;
        registry
            .get(rule)
            .filter(|component| component.pricing_rule().is_some())
            .ok_or_else(|| Error::RuleUnavailable(format!("no pricing rule named {rule:?} is deployed")))
    }
}

impl Host for PricingState {
    async fn quote(&mut self, rule: String, version: Option<u32>, input: QuoteInput) -> wasmtime::Result<Result<QuoteResult, Error>> {
        let component = match self.rule(&rule) {
            Ok(component) => component,
            Err(e) => return Ok(Err(e)),
        };
        if version.is_some_and(|v| v != component.version) {
            let wanted = version.unwrap_or_default();
            return Ok(Err(Error::RuleUnavailable(format!("version {wanted} of the pricing rule {rule:?} is not deployed"))));
        }
        Ok(run(&component, input).await.map(|breakdown| QuoteResult { breakdown, rule_version: component.version }))
    }

    async fn rule_version(&mut self, rule: String) -> wasmtime::Result<Result<u32, Error>> {
        Ok(self.rule(&rule).map(|component| component.version))
    }
}

async fn run(
    component: &LoadedComponent,
    input: QuoteInput,
) -> Result<joule_world::pricing_types::PriceBreakdown, Error> {
    let span = tracing::debug_span!("joule.pricing", rule = %component.id, version = component.version);
    let pre = component.pricing_rule().expect("checked by the caller");
    let price = async |store: &mut wasmtime::Store<_>| {
        let instance = pre.instantiate_async(&mut *store).await?;
        instance.joule_platform_rule().call_price(store, &input).await
    };
    callee::call(component, span, price).await.map_err(Error::RuleFailed)?
}
