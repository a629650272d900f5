//! Loading a component: open what the host gives it (its database, key space, variables),
//! then turn compiled bytes into a version ready to run: check its imports against its
//! grants, check it exports what its callers need, and link exactly what is granted.

use std::sync::{Arc, Weak};

use anyhow::Context as _;
use joule_world::event_handler::EventHandlerPre;
use joule_world::notification_template::NotificationTemplatePre;
use joule_world::ocpp_handler::OcppHandlerPre;
use joule_world::pricing_rule::PricingRulePre;
use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::capabilities::callee::Callees;
use crate::capabilities::shape::Load;
use crate::capabilities::{self, Capabilities};
use crate::component::{
    ComponentHost, EVENT_HANDLER_EXPORT, HTTP_HANDLER_EXPORT, LoadedComponent, OCPP_HANDLER_EXPORT, PRICING_RULE_EXPORT,
    TEMPLATE_EXPORT,
};
use crate::database::{CommitSignals, DatabaseBackend, OpenOptions};
use crate::engine::Compiled;
use crate::error::RuntimeError;
use crate::manifest::{ComponentConfig, Grants};
use crate::metrics::Metrics;
use crate::state::InvocationState;

/// What opening a component needs from the runtime around it.
pub(crate) struct LoadContext<'a> {
    pub engine: &'a Engine,
    /// Whether the engine meters fuel, for every component once any sets a fuel limit.
    pub meters_fuel: bool,
    pub database: &'a Arc<dyn DatabaseBackend>,
    pub capabilities: &'a Capabilities,
    pub signals: &'a CommitSignals,
    pub callees: Weak<dyn Callees>,
    pub metrics: &'a Arc<Metrics>,
}

/// Opens what the host gives `config`'s component, for all of its versions.
/// `host_events` are the event types the host publishes through this component's outbox
/// (the OCPP route component's connection events): its relay lets them out, while the
/// component itself may still publish only what it is granted.
pub(crate) async fn open(
    context: &LoadContext<'_>,
    config: &ComponentConfig,
    handles_events: bool,
    host_events: &[&str],
) -> Result<ComponentHost, RuntimeError> {
    let id = config.id.as_str();
    // Publishing events, handling them and scheduling timers need the unit of work's outbox,
    // inbox and timers, which live in the component's database, granted or not.
    let grants = &config.grants;
    let needs_database = grants.database.is_some()
        || !grants.events_publish.is_empty()
        || grants.timers.is_some()
        || handles_events
        || !host_events.is_empty();
    let database = if needs_database {
        let mut publishes = grants.events_publish.clone();
        publishes.extend(host_events.iter().map(|event| event.to_string()));
        let options = OpenOptions {
            migrations: grants.database.as_ref().and_then(|g| g.migrations.as_deref()),
            timeout: config.limits.timeout,
            publishes: &publishes,
        };
        let database = context
            .database
            .open(id, &options)
            .await
            .with_context(|| format!("failed to open its {} database", context.database.name()))
            .map_err(|e| RuntimeError::component(id, e))?;
        Some(database)
    } else {
        None
    };
    let id: Arc<str> = Arc::from(id);
    let load = Load { component: &id, config, callees: &context.callees };
    Ok(ComponentHost {
        capabilities: context.capabilities.load(&load),
        id,
        engine: context.engine.clone(),
        meters_fuel: context.meters_fuel,
        database,
        signals: context.signals.clone(),
        environment: config.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        concurrency: config.limits.max_concurrency.map(|n| Arc::new(Semaphore::new(n as usize))),
        metrics: context.metrics.clone(),
        config: config.clone(),
    })
}

/// Why compiled bytes cannot run as the component.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error(transparent)]
    Import(#[from] capabilities::ImportError),
    #[error("it does not export {export}.x, which {needed_by}")]
    MissingExport { export: &'static str, needed_by: String },
    #[error(
        "it exports {export}.x, and pricing rules and notification templates are pure, \
         but its manifest grants it {granted}; remove those grants"
    )]
    Impure { export: &'static str, granted: String },
    #[error("{0:#}")]
    Link(anyhow::Error),
}

/// An export a version must have, and who needs it.
pub(crate) struct RequiredExport {
    pub export: &'static str,
    pub needed_by: String,
}

/// Turns compiled bytes into `version` of `host`'s component.
pub(crate) fn prepare(
    host: &Arc<ComponentHost>,
    compiled: Compiled,
    version: u32,
    required: &[RequiredExport],
) -> Result<LoadedComponent, Rejection> {
    let engine = &host.engine;
    let component_type = compiled.component.component_type();
    let exports: Vec<String> = component_type.exports(engine).map(|(name, _)| name.to_string()).collect();
    let exported = |prefix: &str| exports.iter().any(|name| name.starts_with(prefix));
    if let Some(missing) = required.iter().find(|r| !exported(r.export)) {
        return Err(Rejection::MissingExport { export: missing.export, needed_by: missing.needed_by.clone() });
    }
    // A rule or template runs on its caller's behalf, inside the caller's unit of work: with
    // capabilities of its own it could write outside it, or call back into its caller.
    if let Some(export) = [PRICING_RULE_EXPORT, TEMPLATE_EXPORT].into_iter().find(|export| exported(export)) {
        let granted = capabilities::granted(&host.config.grants);
        if !granted.is_empty() {
            return Err(Rejection::Impure { export, granted: granted.join(", ") });
        }
    }
    let imports: Vec<String> = component_type.imports(engine).map(|(name, _)| name.to_string()).collect();
    let grants = &host.config.grants;
    capabilities::check_imports(&host.id, grants, imports.iter().map(String::as_str))?;
    for warning in capabilities::import_warnings(grants, imports.iter().map(String::as_str)) {
        tracing::warn!(component = %host.id, version, "{warning}");
    }

    let linker = linker(engine, grants).map_err(Rejection::Link)?;
    let link = |e: wasmtime::Error| Rejection::Link(anyhow::Error::from(e).context("failed to link its imports"));
    let pre = linker.instantiate_pre(&compiled.component).map_err(link)?;
    let http = exported(HTTP_HANDLER_EXPORT).then(|| ProxyPre::new(pre.clone())).transpose().map_err(link)?;
    let handler = exported(EVENT_HANDLER_EXPORT).then(|| EventHandlerPre::new(pre.clone())).transpose().map_err(link)?;
    let ocpp = exported(OCPP_HANDLER_EXPORT).then(|| OcppHandlerPre::new(pre.clone())).transpose().map_err(link)?;
    let rule = exported(PRICING_RULE_EXPORT).then(|| PricingRulePre::new(pre.clone())).transpose().map_err(link)?;
    let template = exported(TEMPLATE_EXPORT).then(|| NotificationTemplatePre::new(pre)).transpose().map_err(link)?;
    tracing::info!(component = %host.id, version, sha256 = %compiled.sha256, cached = compiled.cached, "component loaded");
    Ok(LoadedComponent {
        id: host.id.clone(),
        version,
        sha256: compiled.sha256,
        exports,
        http,
        handler,
        ocpp,
        rule,
        template,
        host: host.clone(),
    })
}

/// A linker holding WASI, whose outgoing requests `OutboundHttpHooks` checks against the
/// grant, plus exactly the capabilities `grants` gives.
fn linker(engine: &Engine, grants: &Grants) -> anyhow::Result<Linker<InvocationState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    capabilities::link(&mut linker, grants)?;
    Ok(linker)
}
