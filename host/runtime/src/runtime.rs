//! The runtime: the engine, the backends and every loaded component of one application.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::capabilities::database::DatabaseBackend;
use crate::capabilities::database::postgres::{PostgresBackend, PostgresSettings};
use crate::capabilities::database::sqlite::SqliteBackend;
use crate::capabilities::kv::KeyValueBackend;
use crate::capabilities::kv::embedded::EmbeddedKeyValue;
use crate::capabilities::kv::redis::RedisKeyValue;
use crate::capabilities::variables;
use crate::component::LoadedComponent;
use crate::embedded::{LocalStore, StateDir};
use crate::engine::{EngineSettings, JouleEngine};
use crate::error::RuntimeError;
use crate::loader;
use crate::manifest::Manifest;

/// How long a readiness probe waits on a backend.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The backends capabilities run on.
pub struct Backends {
    pub database: Arc<dyn DatabaseBackend>,
    pub kv: Arc<dyn KeyValueBackend>,
}

/// Which backends to use: a URL selects the service, none the embedded default.
/// A URL that is set but cannot be reached stops startup; it never falls back.
#[derive(Debug, Clone, Default)]
pub struct BackendSettings {
    /// `DATABASE_URL`: Postgres, else SQLite files in the state directory.
    pub database_url: Option<String>,
    /// `REDIS_URL`: Redis, else the embedded store in the state directory.
    pub redis_url: Option<String>,
    pub postgres: PostgresSettings,
    /// The first part of every Redis key, so deployments can share one Redis.
    pub redis_prefix: String,
}

impl Backends {
    async fn select(settings: &BackendSettings, state: &StateDir, application: &str) -> anyhow::Result<Self> {
        let database: Arc<dyn DatabaseBackend> = match &settings.database_url {
            Some(url) => Arc::new(PostgresBackend::connect(url, application, settings.postgres.clone()).await?),
            None => Arc::new(SqliteBackend::new(state.databases())),
        };
        let kv: Arc<dyn KeyValueBackend> = match &settings.redis_url {
            Some(url) => Arc::new(RedisKeyValue::connect(url, &settings.redis_prefix).await?),
            None => Arc::new(EmbeddedKeyValue::new(LocalStore::open(state.path()).await?)),
        };
        Ok(Self { database, kv })
    }
}

#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where embedded state and the compile cache live.
    pub state_dir: PathBuf,
    pub compile_cache: bool,
    pub backends: BackendSettings,
}

pub struct Runtime {
    manifest: Manifest,
    engine: JouleEngine,
    backends: Backends,
    components: BTreeMap<String, Arc<LoadedComponent>>,
    _state: StateDir,
}

impl Runtime {
    /// Selects the backends and loads every component of the manifest.
    pub async fn start(manifest: Manifest, options: RuntimeOptions) -> Result<Self, RuntimeError> {
        let variables = variables::resolve(&manifest, |name| std::env::var(name).ok())?;
        let state = StateDir::open(&options.state_dir).map_err(|e| RuntimeError::Backend(format!("{e:#}")))?;
        let limits = manifest.components.values().map(|c| c.limits);
        let settings = EngineSettings {
            max_memory_bytes: limits.clone().map(|l| l.memory_bytes).max().unwrap_or_default().max(1 << 20),
            fuel: limits.clone().any(|l| l.fuel.is_some()),
            cache_dir: options.compile_cache.then(|| state.compile_cache()),
            ..EngineSettings::default()
        };
        let engine = JouleEngine::new(&settings).map_err(|e| RuntimeError::Backend(format!("{e:#}")))?;
        let backends = Backends::select(&options.backends, &state, &manifest.application.name)
            .await
            .map_err(|e| RuntimeError::Backend(format!("{e:#}")))?;
        tracing::info!(database = backends.database.name(), kv = backends.kv.name(), "backends selected");

        let mut components = BTreeMap::new();
        for (id, config) in &manifest.components {
            let component =
                loader::load(&engine, &backends, &manifest.application.name, config, variables[id].clone()).await?;
            components.insert(id.clone(), Arc::new(component));
        }
        Ok(Self { manifest, engine, backends, components, _state: state })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn engine(&self) -> &JouleEngine {
        &self.engine
    }

    /// The version of a component that new invocations should use.
    pub fn component(&self, id: &str) -> Option<Arc<LoadedComponent>> {
        self.components.get(id).cloned()
    }

    /// Whether every backend answers; the error says which one does not.
    pub async fn check_ready(&self) -> Result<(), String> {
        let ping = |name: &'static str, result: Result<anyhow::Result<()>, _>| match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("the {name} backend failed: {e:#}")),
            Err(_) => Err(format!("the {name} backend did not answer within {READY_TIMEOUT:?}")),
        };
        ping(self.backends.database.name(), tokio::time::timeout(READY_TIMEOUT, self.backends.database.ping()).await)?;
        ping(self.backends.kv.name(), tokio::time::timeout(READY_TIMEOUT, self.backends.kv.ping()).await)?;
        Ok(())
    }
}
