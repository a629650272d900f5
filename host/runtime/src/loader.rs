//! Loading a component: read, compile (or fetch from the cache), check its imports
//! against its grants, link exactly what is granted, and open its database.

use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::Semaphore;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::capabilities::variables::ComponentVariables;
use crate::capabilities::database::OpenOptions;
use crate::capabilities::{self, kv};
use crate::component::{HTTP_HANDLER_EXPORT, LoadedComponent};
use crate::engine::JouleEngine;
use crate::error::RuntimeError;
use crate::manifest::ComponentConfig;
use crate::runtime::Backends;

pub(crate) async fn load(
    engine: &JouleEngine,
    backends: &Backends,
    application: &str,
    config: &ComponentConfig,
    variables: ComponentVariables,
) -> Result<LoadedComponent, RuntimeError> {
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
    let http = if exports.iter().any(|name| name.starts_with(HTTP_HANDLER_EXPORT)) {
        let proxy = ProxyPre::new(pre).map_err(anyhow::Error::from).map_err(failed)?;
        Some(proxy)
    } else {
        None
    };
    let database = match &config.grants.database {
        None => None,
        Some(grant) => Some(
            backends
                .database
                .open(id, &OpenOptions { migrations: grant.migrations.as_deref(), timeout: config.limits.timeout })
                .await
                .with_context(|| format!("failed to open its {} database", backends.database.name()))
                .map_err(failed)?,
        ),
    };
    tracing::info!(
        component = id,
        sha256 = %compiled.sha256,
        cached = compiled.cached,
        "component loaded"
    );
    Ok(LoadedComponent {
        id: Arc::from(id),
        sha256: compiled.sha256,
        exports,
        engine: engine.engine().clone(),
        http,
        database,
        kv: backends.kv.clone(),
        kv_space: kv::key_space(application, id),
        variables,
        environment: config.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        concurrency: config.limits.max_concurrency.map(|n| Arc::new(Semaphore::new(n as usize))),
        config: config.clone(),
    })
}
