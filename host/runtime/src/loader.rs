//! Loading a component: read, compile (or fetch from the cache), check its imports
//! against its grants, link exactly what is granted, and open its database.

use std::sync::{Arc, Weak};

use anyhow::Context as _;
use joule_world::event_handler::EventHandlerPre;
use joule_world::notification_template::NotificationTemplatePre;
use joule_world::pricing_rule::PricingRulePre;
use tokio::sync::{Notify, Semaphore};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::capabilities::variables::ComponentVariables;
use crate::capabilities::database::OpenOptions;
use crate::capabilities::{self, kv};
use crate::component::{EVENT_HANDLER_EXPORT, HTTP_HANDLER_EXPORT, LoadedComponent, PRICING_RULE_EXPORT, TEMPLATE_EXPORT};
use crate::registry::Registry;
use crate::engine::JouleEngine;
use crate::error::RuntimeError;
use crate::manifest::ComponentConfig;
use crate::runtime::Backends;

/// What loading needs from the runtime around it.
pub(crate) struct LoadContext<'a> {
    pub engine: &'a JouleEngine,
    pub backends: &'a Backends,
    pub application: &'a str,
    pub outbox_signal: &'a Arc<Notify>,
    pub registry: Weak<Registry>,
}

pub(crate) async fn load(
    context: &LoadContext<'_>,
    config: &ComponentConfig,
    variables: ComponentVariables,
    queue_triggered: bool,
) -> Result<LoadedComponent, RuntimeError> {
    let LoadContext { engine, backends, application, .. } = *context;
    let id = config.id.as_str();
    let failed = |e: anyhow::Error| RuntimeError::component(id, e);

    let wasm = tokio::fs::read(&config.source)
        .await
        .with_context(|| {
            let hint = if config.build.is_some() { " (run `joule build`, or `joule up --build`)" } else { "" };
            format!("failed to read its source {}{hint}", config.source.display())
        })
        .map_err(failed)?;
    let compiled = engine.compile(wasm).await.map_err(failed)?;
    let component_type = compiled.component.component_type();
    let imports: Vec<String> = component_type.imports(engine.engine()).map(|(name, _)| name.to_string()).collect();
    capabilities::check_imports(id, &config.grants, imports.iter().map(String::as_str))?;
    let exports: Vec<String> = component_type.exports(engine.engine()).map(|(name, _)| name.to_string()).collect();

    let linker = capabilities::linker(engine.engine(), &config.grants).map_err(failed)?;
    let pre = linker
        .instantiate_pre(&compiled.component)
        .map_err(anyhow::Error::from)
        .context("failed to link its imports")
        .map_err(failed)?;
    let exported = |prefix: &str| exports.iter().any(|name| name.starts_with(prefix));
    let http = match exported(HTTP_HANDLER_EXPORT) {
        true => Some(ProxyPre::new(pre.clone()).map_err(anyhow::Error::from).map_err(failed)?),
        false => None,
    };
    let typed = |e: wasmtime::Error| failed(anyhow::Error::from(e));
    let handler = match exported(EVENT_HANDLER_EXPORT) {
        true => Some(EventHandlerPre::new(pre.clone()).map_err(typed)?),
        false => None,
    };
    let rule = match exported(PRICING_RULE_EXPORT) {
        true => Some(PricingRulePre::new(pre.clone()).map_err(typed)?),
        false => None,
    };
    let template = match exported(TEMPLATE_EXPORT) {
        true => Some(NotificationTemplatePre::new(pre).map_err(typed)?),
        false => None,
    };
    // Publishing and handling events need the unit of work's outbox and inbox, which live
    // in the component's database, granted or not.
    let grants = &config.grants;
    let database = if grants.database.is_some() || !grants.events_publish.is_empty() || queue_triggered {
        let options = OpenOptions {
            migrations: grants.database.as_ref().and_then(|g| g.migrations.as_deref()),
            timeout: config.limits.timeout,
            publishes: &grants.events_publish,
        };
        let database = backends
            .database
            .open(id, &options)
            .await
            .with_context(|| format!("failed to open its {} database", backends.database.name()))
            .map_err(failed)?;
        Some(database)
    } else {
        None
    };
    tracing::info!(
        component = id,
        sha256 = %compiled.sha256,
        cached = compiled.cached,
        "component loaded"
    );
    Ok(LoadedComponent {
        id: Arc::from(id),
        version: 1,
        sha256: compiled.sha256,
        exports,
        engine: engine.engine().clone(),
        http,
        handler,
        rule,
        template,
        registry: context.registry.clone(),
        pricing_rules: Arc::new(grants.pricing.as_ref().map(|p| p.rules.clone()).unwrap_or_default()),
        template_names: Arc::new(grants.templates.as_ref().map(|t| t.names.clone()).unwrap_or_default()),
        database,
        publishes: Arc::new(grants.events_publish.clone()),
        outbox_signal: context.outbox_signal.clone(),
        kv: backends.kv.clone(),
        kv_space: kv::key_space(application, id),
        variables,
        environment: config.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        concurrency: config.limits.max_concurrency.map(|n| Arc::new(Semaphore::new(n as usize))),
        config: config.clone(),
    })
}
