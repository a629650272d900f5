//! The component registry: which version of each component new invocations use, and
//! deploying, rolling back and following the other replicas.
//!
//! A switch swaps one pointer: invocations already running hold the version they started
//! with and finish on it.

mod callees;
mod entry;
mod follow;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

use crate::component::{ComponentHost, LoadedComponent};
use crate::engine::JouleEngine;
use crate::error::RuntimeError;
use crate::loader::{self, Rejection, RequiredExport};
use entry::Entry;
use store::{NewVersion, Register, StoreError, VersionRecord, VersionStore};

/// Who registered a manifest's own source file.
const MANIFEST_DEPLOYER: &str = "manifest";

/// Why a deploy or rollback did not happen; the active version is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("the manifest has no component named {0:?}")]
    UnknownComponent(String),
    #[error("component {component:?} cannot be deployed: {reason}")]
    Rejected { component: String, reason: String },
    #[error("component {component:?} has no version {version}")]
    UnknownVersion { component: String, version: u32 },
    #[error("component {0:?} has no earlier version to roll back to")]
    NoEarlierVersion(String),
    #[error("the component registry failed: {0:#}")]
    Store(anyhow::Error),
}

impl From<StoreError> for DeployError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UnknownVersion { component, version } => Self::UnknownVersion { component, version },
            StoreError::Backend(e) => Self::Store(e),
        }
    }
}

/// A deploy that went through.
#[derive(Debug, Clone)]
pub struct Deployed {
    pub record: VersionRecord,
    /// False when the bytes were the active version already.
    pub created: bool,
}

pub struct Registry {
    engine: Arc<JouleEngine>,
    store: Arc<dyn VersionStore>,
    /// Set once at startup; the manifest fixes which components exist.
    entries: OnceLock<HashMap<String, Entry>>,
}

impl Registry {
    pub(crate) fn new(engine: Arc<JouleEngine>, store: Arc<dyn VersionStore>) -> Self {
        Self { engine, store, entries: OnceLock::new() }
    }

    /// Loads each component's active version, registering its manifest source first when
    /// those bytes are new. `required` lists the exports each component's callers need.
    pub(crate) async fn start(
        &self,
        hosts: Vec<(ComponentHost, Vec<RequiredExport>)>,
    ) -> Result<(), RuntimeError> {
        let mut entries = HashMap::new();
        for (host, mut required) in hosts {
            let host = Arc::new(host);
            let id = host.id.to_string();
            let active = self.load_active(&host).await?;
            // Whatever calls it as a rule or a template keeps needing that.
            for role in [crate::PRICING_RULE_EXPORT, crate::TEMPLATE_EXPORT] {
                if active.exports(role) && !required.iter().any(|r| r.export == role) {
                    required.push(RequiredExport { export: role, needed_by: "the version it replaces has it".into() });
                }
            }
            entries.insert(id, Entry::new(host, Arc::new(active), required));
        }
        if self.entries.set(entries).is_err() {
            panic!("the registry is started once");
        }
        Ok(())
    }

    async fn load_active(&self, host: &Arc<ComponentHost>) -> Result<LoadedComponent, RuntimeError> {
        let id = &*host.id;
        let failed = |e: anyhow::Error| RuntimeError::component(id, e);
        let source = &host.config.source;
        let wasm = tokio::fs::read(source)
            .await
            .with_context(|| {
                let hint = if host.config.build.is_some() { " (run `joule build`, or `joule up --build`)" } else { "" };
                format!("failed to read its source {}{hint}", source.display())
            })
            .map_err(failed)?;
        let sha256 = hex::encode(Sha256::digest(&wasm));
        let new = NewVersion { component: id, wasm: &wasm, sha256: &sha256, deployed_by: MANIFEST_DEPLOYER };
        let registered = self
            .store
            .register(new, Register::UnlessKnown)
            .await
            .map_err(|e| failed(anyhow::Error::from(e).context("failed to register its source")))?;
        let active = registered.active;
        let wasm = if active.sha256 == sha256 {
            wasm
        } else {
            tracing::info!(component = id, version = active.version, "loading the version deployed since the manifest's");
            self.store.wasm(id, active.version).await.map_err(|e| failed(e.into()))?.unwrap_or_default()
        };
        let compiled = self.engine.compile(wasm).await.map_err(failed)?;
        loader::prepare(host, compiled, active.version, &[]).map_err(|rejection| match rejection {
            Rejection::Import(e) => RuntimeError::Import(e),
            other => RuntimeError::Component {
                component: id.to_string(),
                message: format!("version {}: {other}", active.version),
            },
        })
    }

    fn entry(&self, id: &str) -> Result<&Entry, DeployError> {
        self.entries.get().and_then(|e| e.get(id)).ok_or_else(|| DeployError::UnknownComponent(id.to_string()))
    }

    /// The version of `id` that new invocations use.
    pub fn get(&self, id: &str) -> Option<Arc<LoadedComponent>> {
        self.entries.get()?.get(id).map(Entry::active)
    }

    pub fn ids(&self) -> Vec<String> {
        self.entries.get().map(|e| e.keys().cloned().collect()).unwrap_or_default()
    }

    /// A given version of `id`, active or not, as a pinned price needs.
    pub async fn version(&self, id: &str, version: u32) -> Result<Arc<LoadedComponent>, DeployError> {
        let entry = self.entry(id)?;
        match entry.loaded(version) {
            Some(loaded) => Ok(loaded),
            None => self.load_version(entry, version).await,
        }
    }

    async fn load_version(&self, entry: &Entry, version: u32) -> Result<Arc<LoadedComponent>, DeployError> {
        let id = &*entry.host.id;
        let wasm = self
            .store
            .wasm(id, version)
            .await?
            .ok_or_else(|| DeployError::UnknownVersion { component: id.to_string(), version })?;
        let loaded = Arc::new(self.prepare(entry, wasm, version).await?);
        entry.remember(loaded.clone());
        Ok(loaded)
    }

    /// Checks that `wasm` can run as the component, and compiles it (through the cache).
    async fn prepare(&self, entry: &Entry, wasm: Vec<u8>, version: u32) -> Result<LoadedComponent, DeployError> {
        let rejected = |reason: String| DeployError::Rejected { component: entry.host.id.to_string(), reason };
        if !wasm.starts_with(b"\0asm") {
            return Err(rejected("the file is not WebAssembly: it does not start with \\0asm".into()));
        }
        let compiled = self.engine.compile(wasm).await.map_err(|e| rejected(format!("{e:#}")))?;
        loader::prepare(&entry.host, compiled, version, &entry.required).map_err(|e| rejected(e.to_string()))
    }

    /// Validates `wasm`, stores it as the component's next version and switches to it.
    /// New invocations use it once this returns; running ones finish on the old version.
    pub async fn deploy(&self, id: &str, wasm: Vec<u8>, deployed_by: &str) -> Result<Deployed, DeployError> {
        let entry = self.entry(id)?;
        let sha256 = hex::encode(Sha256::digest(&wasm));
        let candidate = match entry.loaded_with_sha256(&sha256) {
            Some(loaded) => loaded,
            None => Arc::new(self.prepare(entry, wasm.clone(), 0).await?),
        };
        let _turn = entry.turn().await;
        let new = NewVersion { component: id, wasm: &wasm, sha256: &sha256, deployed_by };
        let registered = self.store.register(new, Register::UnlessActive).await?;
        let version = registered.active.version;
        entry.switch(Arc::new(LoadedComponent { version, ..(*candidate).clone() }));
        tracing::info!(component = id, version, sha256, deployed_by, created = registered.created, "deployed");
        Ok(Deployed { record: registered.active, created: registered.created })
    }

    /// Switches back to `version`, or without one to the version active before the current one.
    pub async fn rollback(&self, id: &str, version: Option<u32>) -> Result<VersionRecord, DeployError> {
        let entry = self.entry(id)?;
        let _turn = entry.turn().await;
        let target = match version {
            Some(version) => version,
            None => store::rollback_target(&self.store.versions(id).await?)
                .ok_or_else(|| DeployError::NoEarlierVersion(id.to_string()))?,
        };
        // Loaded before it is activated, so a version that no longer fits the manifest
        // is refused while the current one keeps serving.
        let loaded = self.version(id, target).await?;
        let record = self.store.activate(id, target).await?;
        entry.switch(loaded);
        tracing::info!(component = id, version = target, "rolled back");
        Ok(record)
    }

    /// The active version of every component, as stored.
    pub async fn active_versions(&self) -> Result<Vec<VersionRecord>, DeployError> {
        Ok(self.store.active().await?)
    }

    /// Every stored version of `id`, newest first.
    pub async fn versions(&self, id: &str) -> Result<Vec<VersionRecord>, DeployError> {
        self.entry(id)?;
        Ok(self.store.versions(id).await?)
    }

    /// Brings every component to the version the store says is active: what another
    /// replica deployed or rolled back to.
    pub(crate) async fn reconcile(&self) -> Result<(), DeployError> {
        for record in self.store.active().await? {
            let Ok(entry) = self.entry(&record.component) else { continue };
            if entry.active().version == record.version {
                continue;
            }
            let _turn = entry.turn().await;
            // Read again in turn: a deploy here may have switched meanwhile.
            let versions = self.store.versions(&record.component).await?;
            let Some(active) = versions.iter().find(|v| v.active) else { continue };
            if entry.active().version != active.version {
                let loaded = self.version(&record.component, active.version).await?;
                entry.switch(loaded);
                tracing::info!(component = %record.component, version = active.version, "switched to a version deployed by another replica");
            }
        }
        Ok(())
    }
}
