//! The registry as the pricing and templates capabilities see it: it finds the rule or
//! template a caller names, at the version asked for, and runs it in an invocation of its own.

use std::sync::Arc;

use async_trait::async_trait;
use joule_world::event_types::Event;
use joule_world::message_types::Message;
use joule_world::pricing::QuoteResult;
use joule_world::pricing_types::{Error, PriceBreakdown, QuoteInput};
use tracing::Instrument as _;
use wasmtime::Store;

use super::{DeployError, Registry};
use crate::capabilities::callee::{CallChain, Callees};
use crate::component::LoadedComponent;
use crate::invocation::{Failure, Invocation};
use crate::state::InvocationState;

impl Registry {
    /// The active version of the pricing rule `rule`.
    fn rule(&self, rule: &str) -> Result<Arc<LoadedComponent>, Error> {
        self.get(rule)
            .filter(|component| component.pricing_rule().is_some())
            .ok_or_else(|| Error::RuleUnavailable(format!("no pricing rule named {rule:?} is deployed")))
    }

    /// An earlier version of a rule, for a price pinned to it.
    async fn pinned_rule(&self, rule: &str, version: u32) -> Result<Arc<LoadedComponent>, Error> {
        match self.version(rule, version).await {
            Ok(component) if component.pricing_rule().is_some() => Ok(component),
            Ok(_) => Err(Error::RuleUnavailable(format!("version {version} of {rule:?} is not a pricing rule"))),
            Err(DeployError::UnknownVersion { .. }) => {
                Err(Error::RuleUnavailable(format!("version {version} of the pricing rule {rule:?} is not deployed")))
            }
            Err(e) => Err(Error::RuleFailed(format!("failed to load version {version} of the pricing rule {rule:?}: {e}"))),
        }
    }
}

#[async_trait]
impl Callees for Registry {
    fn rule_version(&self, rule: &str) -> Result<u32, Error> {
        self.rule(rule).map(|component| component.version)
    }

    async fn quote(&self, chain: &CallChain, rule: &str, version: Option<u32>, input: &QuoteInput) -> Result<QuoteResult, Error> {
        let active = self.rule(rule)?;
        let component = match version {
            Some(pinned) if pinned != active.version => self.pinned_rule(rule, pinned).await?,
            _ => active,
        };
        let span = tracing::debug_span!("joule.pricing", rule = %component.id, version = component.version);
        let pre = component.pricing_rule().expect("a pricing rule");
        let price = async |store: &mut Store<InvocationState>| {
            let instance = pre.instantiate_async(&mut *store).await?;
            instance.joule_platform_rule().call_price(store, input).await
        };
        let breakdown: PriceBreakdown = call(chain, &component, span, price).await.map_err(Error::RuleFailed)??;
        Ok(QuoteResult { breakdown, rule_version: component.version })
    }

    async fn render(&self, chain: &CallChain, template: &str, event: &Event) -> Result<Option<Message>, String> {
        let Some(component) = self.get(template).filter(|c| c.notification_template().is_some()) else {
            return Err(format!("no notification template named {template:?} is deployed"));
        };
        let pre = component.notification_template().expect("a notification template");
        let span = tracing::debug_span!("joule.template", template = %component.id, event_type = %event.event_type);
        let render = async |store: &mut Store<InvocationState>| {
            let instance = pre.instantiate_async(&mut *store).await?;
            instance.joule_platform_template().call_render(store, event).await
        };
        call(chain, &component, span, render).await
    }
}

/// Runs `call` in a fresh invocation of `component` on `chain`'s behalf, in a store of its
/// own, with its own limits and deadline; a failure is described for the caller.
async fn call<T>(
    chain: &CallChain,
    component: &LoadedComponent,
    span: tracing::Span,
    call: impl AsyncFnOnce(&mut Store<InvocationState>) -> wasmtime::Result<T>,
) -> Result<T, String> {
    let callers = chain.to(&component.id)?;
    let mut invocation = Invocation::called_by(component, callers).map_err(|e| format!("{e}; retry shortly"))?;
    let deadline = invocation.deadline();
    match tokio::time::timeout_at(deadline.into(), call(invocation.store()).instrument(span)).await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(trap)) => Err(format!("{:?} failed: {}", component.id, Failure::classify(&trap))),
        Err(_) => Err(format!("{:?} ran past its time limit", component.id)),
    }
}
