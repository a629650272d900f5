use std::sync::Arc;

use joule_world::pricing::{Host, QuoteResult};
use joule_world::pricing_types::{Error, QuoteInput};

use super::PricingState;
use crate::capabilities::callee;
use crate::component::LoadedComponent;
use crate::registry::DeployError;

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

    /// An earlier version of a rule, for a price pinned to it.
    async fn pinned(&self, rule: &str, version: u32) -> Result<Arc<LoadedComponent>, Error> {
        let registry = self.registry.upgrade().ok_or_else(|| Error::RuleFailed("the host is shutting down".into()))?;
        match registry.version(rule, version).await {
            Ok(component) if component.pricing_rule().is_some() => Ok(component),
            Ok(_) => Err(Error::RuleUnavailable(format!("version {version} of {rule:?} is not a pricing rule"))),
            Err(DeployError::UnknownVersion { .. }) => {
                Err(Error::RuleUnavailable(format!("version {version} of the pricing rule {rule:?} is not deployed")))
            }
            Err(e) => Err(Error::RuleFailed(format!("failed to load version {version} of the pricing rule {rule:?}: {e}"))),
        }
    }
}

impl Host for PricingState {
    async fn quote(&mut self, rule: String, version: Option<u32>, input: QuoteInput) -> wasmtime::Result<Result<QuoteResult, Error>> {
        let component = match self.rule(&rule) {
            Ok(component) => component,
            Err(e) => return Ok(Err(e)),
        };
        let component = match version {
            Some(pinned) if pinned != component.version => match self.pinned(&rule, pinned).await {
                Ok(component) => component,
                Err(e) => return Ok(Err(e)),
            },
            _ => component,
        };
        Ok(run(&self.chain, &component, input).await.map(|breakdown| QuoteResult { breakdown, rule_version: component.version }))
    }

    async fn rule_version(&mut self, rule: String) -> wasmtime::Result<Result<u32, Error>> {
        Ok(self.rule(&rule).map(|component| component.version))
    }
}

async fn run(
    chain: &callee::CallChain,
    component: &LoadedComponent,
    input: QuoteInput,
) -> Result<joule_world::pricing_types::PriceBreakdown, Error> {
    let span = tracing::debug_span!("joule.pricing", rule = %component.id, version = component.version);
    let pre = component.pricing_rule().expect("checked by the caller");
    let price = async |store: &mut wasmtime::Store<_>| {
        let instance = pre.instantiate_async(&mut *store).await?;
        instance.joule_platform_rule().call_price(store, &input).await
    };
    callee::call(chain, component, span, price).await.map_err(Error::RuleFailed)?
}
