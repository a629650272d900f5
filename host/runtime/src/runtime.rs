//! The runtime: the engine, the backends and every loaded component of one application.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::capabilities::database::DatabaseBackend;
use crate::capabilities::database::sqlite::SqliteBackend;
use crate::capabilities::kv::KeyValueBackend;
use crate::capabilities::kv::embedded::EmbeddedKeyValue;
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

impl Backends {
    /// SQLite files and the local store, under the state directory.
    async fn embedded(state: &StateDir) -> anyhow::Result<Self> {
        let store = LocalStore::open(state.path()).await?;
        Ok(Self {
            database: Arc::new(SqliteBackend::new(state.databases())),
            kv: Arc::new(EmbeddedKeyValue::new(store)),
        })
    }
}

#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where embedded state and the compile cache live.
    pub state_dir: PathBuf,
    pub compile_cache: bool,
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
        let backends = Backends::embedded(&state).await.map_err(|e| RuntimeError::Backend(format!("{e:#}")))?;
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
