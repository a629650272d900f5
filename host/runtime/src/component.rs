//! A component as the host runs it: what every version shares, and one loaded version.

use std::sync::Arc;

use joule_world::event_handler::EventHandlerPre;
use joule_world::notification_template::NotificationTemplatePre;
use joule_world::ocpp_handler::OcppHandlerPre;
use joule_world::pricing_rule::PricingRulePre;
use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::capabilities::ComponentCapabilities;
use crate::database::{CommitSignals, ComponentDatabase};
use crate::manifest::ComponentConfig;
use crate::metrics::Metrics;
use crate::state::InvocationState;

/// The WASI 0.2 export that makes a component servable over HTTP.
pub const HTTP_HANDLER_EXPORT: &str = "wasi:http/incoming-handler@0.2";
/// The export that makes a component an event handler.
pub const EVENT_HANDLER_EXPORT: &str = "joule:platform/handler@0.1";
/// The export that makes a component an OCPP handler.
pub const OCPP_HANDLER_EXPORT: &str = "joule:platform/charge-point@0.1";
/// The export that makes a component a pricing rule.
pub const PRICING_RULE_EXPORT: &str = "joule:platform/rule@0.1";
/// The export that makes a component a notification template.
pub const TEMPLATE_EXPORT: &str = "joule:platform/template@0.1";

/// The invocation was refused because the component is at its concurrency limit.
#[derive(Debug, Clone, thiserror::Error)]
#[error("component {0:?} is at its concurrency limit")]
pub struct Overloaded(pub String);

/// What the host gives one component, whichever of its versions runs: its manifest entry,
/// its capabilities and its concurrency limit. Versions of a component share one.
pub struct ComponentHost {
    pub id: Arc<str>,
    pub config: ComponentConfig,
    pub(crate) engine: Engine,
    /// Whether the engine meters fuel: then every store needs fuel to run at all.
    pub(crate) meters_fuel: bool,
    /// Where its units of work are kept: its database, which the outbox and inbox need
    /// whether or not SQL is granted.
    pub(crate) database: Option<Arc<dyn ComponentDatabase>>,
    /// Woken by its commits: the relay, the timer trigger.
    pub(crate) signals: CommitSignals,
    pub(crate) capabilities: ComponentCapabilities,
    pub(crate) environment: Vec<(String, String)>,
    pub(crate) concurrency: Option<Arc<Semaphore>>,
    pub(crate) metrics: Arc<Metrics>,
}

/// One version of a component: compiled, checked against its grants, linked, and ready to
/// instantiate once per invocation.
#[derive(Clone)]
pub struct LoadedComponent {
    pub id: Arc<str>,
    /// The registry's version number; a pinned price names it.
    pub version: u32,
    /// sha256 of the wasm bytes, hex-encoded.
    pub sha256: String,
    /// The component's exports, by name.
    pub exports: Vec<String>,
    pub(crate) http: Option<ProxyPre<InvocationState>>,
    pub(crate) handler: Option<EventHandlerPre<InvocationState>>,
    pub(crate) ocpp: Option<OcppHandlerPre<InvocationState>>,
    pub(crate) rule: Option<PricingRulePre<InvocationState>>,
    pub(crate) template: Option<NotificationTemplatePre<InvocationState>>,
    pub(crate) host: Arc<ComponentHost>,
}

impl LoadedComponent {
    /// Where its invocations are counted.
    pub fn metrics(&self) -> &Metrics {
        &self.host.metrics
    }

    pub fn config(&self) -> &ComponentConfig {
        &self.host.config
    }

    /// Whether it has a database, where its units of work, inbox and timers are kept.
    pub fn has_database(&self) -> bool {
        self.host.database.is_some()
    }

    /// Whether it exports the interface `export` names, at any 0.x patch version.
    pub fn exports(&self, export: &str) -> bool {
        self.exports.iter().any(|name| name.starts_with(export))
    }

    /// The pre-instantiated HTTP handler, if the component exports one.
    pub fn http_handler(&self) -> Option<&ProxyPre<InvocationState>> {
        self.http.as_ref()
    }

    pub fn exports_http(&self) -> bool {
        self.http.is_some()
    }

    /// The pre-instantiated event handler, if the component exports one.
    pub fn event_handler(&self) -> Option<&EventHandlerPre<InvocationState>> {
        self.handler.as_ref()
    }

    /// The pre-instantiated OCPP handler, if the component exports one.
    pub fn ocpp_handler(&self) -> Option<&OcppHandlerPre<InvocationState>> {
        self.ocpp.as_ref()
    }

    pub fn pricing_rule(&self) -> Option<&PricingRulePre<InvocationState>> {
        self.rule.as_ref()
    }

    pub fn notification_template(&self) -> Option<&NotificationTemplatePre<InvocationState>> {
        self.template.as_ref()
    }
}
