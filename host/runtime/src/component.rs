//! A component as the host runs it: what every version shares, and one loaded version.

use std::sync::{Arc, Weak};
use std::time::Instant;

use std::collections::BTreeSet;

use joule_world::event_handler::EventHandlerPre;
use joule_world::notification_template::NotificationTemplatePre;
use joule_world::pricing_rule::PricingRulePre;
use tokio::sync::{Notify, Semaphore};
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi_http::WasiHttpCtx;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::capabilities::callee::CallChain;
use crate::capabilities::database::{ComponentDatabase, DatabaseState};
use crate::capabilities::events::{EventsState, InvocationContext};
use crate::capabilities::kv::{KeyValueBackend, KvState};
use crate::capabilities::outbound_http::OutboundHttpHooks;
use crate::capabilities::pricing::PricingState;
use crate::capabilities::templates::TemplatesState;
use crate::capabilities::variables::{ComponentVariables, VariablesState};
use crate::invocation::{GuestLog, Invocation, InvocationState, MemoryLimit};
use crate::manifest::ComponentConfig;
use crate::metrics::Metrics;
use crate::registry::Registry;

/// The WASI 0.2 export that makes a component servable over HTTP.
pub const HTTP_HANDLER_EXPORT: &str = "wasi:http/incoming-handler@0.2";
/// The export that makes a component an event handler.
pub const EVENT_HANDLER_EXPORT: &str = "joule:platform/handler@0.1";
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
    /// Where rules and templates this component runs are found.
    pub(crate) registry: Weak<Registry>,
    pub(crate) pricing_rules: Arc<BTreeSet<String>>,
    pub(crate) template_names: Arc<BTreeSet<String>>,
    pub(crate) database: Option<Arc<dyn ComponentDatabase>>,
    pub(crate) publishes: Arc<BTreeSet<String>>,
    pub(crate) outbox_signal: Arc<Notify>,
    pub(crate) kv: Arc<dyn KeyValueBackend>,
    pub(crate) kv_space: Arc<str>,
    pub(crate) variables: ComponentVariables,
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
    pub(crate) rule: Option<PricingRulePre<InvocationState>>,
    pub(crate) template: Option<NotificationTemplatePre<InvocationState>>,
    pub(crate) host: Arc<ComponentHost>,
}

impl LoadedComponent {
    /// The pre-instantiated HTTP handler, if the component exports one.
    /// Where its invocations are counted.
    pub fn metrics(&self) -> &Metrics {
        &self.host.metrics
    }

    pub fn config(&self) -> &ComponentConfig {
        &self.host.config
    }

    /// Whether it exports the interface `export` names, at any 0.x patch version.
    pub fn exports(&self, export: &str) -> bool {
        self.exports.iter().any(|name| name.starts_with(export))
    }

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

    pub fn pricing_rule(&self) -> Option<&PricingRulePre<InvocationState>> {
        self.rule.as_ref()
    }

    pub fn notification_template(&self) -> Option<&NotificationTemplatePre<InvocationState>> {
        self.template.as_ref()
    }

    /// Creates a fresh store for one invocation, with the component's limits applied.
    pub fn invocation(&self, context: InvocationContext) -> Result<Invocation, Overloaded> {
        self.start(context, Vec::new())
    }

    /// An invocation on behalf of `callers`, outermost first, as a pricing rule or template runs.
    pub(crate) fn called_by(&self, callers: Vec<Arc<str>>) -> Result<Invocation, Overloaded> {
        self.start(InvocationContext::default(), callers)
    }

    fn start(&self, context: InvocationContext, callers: Vec<Arc<str>>) -> Result<Invocation, Overloaded> {
        let host = &*self.host;
        let permit = match &host.concurrency {
            None => None,
            Some(semaphore) => {
                Some(semaphore.clone().try_acquire_owned().map_err(|_| Overloaded(host.id.to_string()))?)
            }
        };
        let limits = &host.config.limits;
        let deadline = Instant::now() + limits.timeout;
        let (stdout, stderr) = GuestLog::pair(host.id.clone());
        let chain = CallChain { callers, component: host.id.clone() };
        let state = InvocationState {
            wasi: WasiCtxBuilder::new()
                .stdout(stdout)
                .stderr(stderr)
                .envs(&host.environment)
                .build(),
            http: WasiHttpCtx::new(),
            http_hooks: OutboundHttpHooks::new(host.config.grants.outbound_http.clone()),
            table: ResourceTable::new(),
            limits: MemoryLimit::new(usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX)),
            database: DatabaseState::new(
                host.id.clone(),
                host.database.clone(),
                deadline,
                Some(host.outbox_signal.clone()),
            ),
            events: EventsState::new(host.id.clone(), host.publishes.clone(), context),
            kv: KvState::new(host.kv.clone(), host.kv_space.clone()),
            variables: VariablesState::new(host.variables.clone()),
            pricing: PricingState::new(host.registry.clone(), host.pricing_rules.clone(), chain.clone()),
            templates: TemplatesState::new(host.registry.clone(), host.template_names.clone(), chain),
        };
        let mut store = Store::new(&host.engine, state);
        store.limiter(|state| &mut state.limits);
        // Metering is engine-wide, on once any component sets a fuel limit; a component
        // without a limit of its own runs on all the fuel there is.
        if host.meters_fuel {
            store.set_fuel(limits.fuel.unwrap_or(u64::MAX)).expect("the engine meters fuel");
        }
        // Check the deadline at every epoch tick, yielding in between so a busy guest
        // never holds an executor thread for longer than one tick.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= deadline { UpdateDeadline::Interrupt } else { UpdateDeadline::Yield(1) })
        });
        Ok(Invocation::new(store, deadline, permit))
    }
}
