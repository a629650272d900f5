//! The `kv` capability: each component gets its own key space in a shared store.
//!
//! The host names the space (application and component), so a guest can only ever
//! name keys inside its own.

pub mod embedded;
mod host;
pub mod redis;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use joule_world::kv::Error;
use wasmtime::component::Linker;

use super::shape::{Capability, Load, Start, View, ViewOf};
use crate::manifest::Grants;

/// A key-value store holding every component's key space.
#[async_trait]
pub trait KeyValueBackend: Send + Sync {
    fn name(&self) -> &'static str;
    async fn get(&self, space: &str, key: &str) -> Result<Option<Vec<u8>>, Error>;
    async fn set(&self, space: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), Error>;
    async fn delete(&self, space: &str, key: &str) -> Result<bool, Error>;
    async fn exists(&self, space: &str, key: &str) -> Result<bool, Error>;
    /// Adds `delta` to an integer stored as decimal text, keeping the key's time to live.
    async fn incr(&self, space: &str, key: &str, delta: i64) -> Result<i64, Error>;
    async fn ping(&self) -> anyhow::Result<()>;
}

/// The key space of one application's component.
pub fn key_space(application: &str, component: &str) -> Arc<str> {
    format!("{application}:{component}").into()
}

/// Every component's key space, in one store.
pub(crate) struct KeyValue {
    pub backend: Arc<dyn KeyValueBackend>,
    pub application: String,
}

/// The key-value side of one invocation: the store, and the component's space in it.
#[derive(Clone)]
pub struct KvState {
    backend: Arc<dyn KeyValueBackend>,
    space: Arc<str>,
}

impl Capability for KeyValue {
    const NAME: &'static str = "key-value";
    const GRANT_HINT: &'static str = "add key_value_stores = [\"default\"]";
    const INTERFACES: &'static [&'static str] = &[joule_world::interface_names::KV];
    type Component = KvState;
    type State = KvState;

    fn is_granted(grants: &Grants) -> bool {
        grants.key_value
    }

    fn component(&self, load: &Load<'_>) -> KvState {
        KvState { backend: self.backend.clone(), space: key_space(&self.application, load.component) }
    }

    fn state(component: &KvState, _: &Start<'_>) -> KvState {
        component.clone()
    }

    fn add_to_linker<T: Send + 'static>(linker: &mut Linker<T>, view: fn(&mut T) -> View<'_, KvState>) -> anyhow::Result<()> {
        Ok(joule_world::kv::add_to_linker::<_, ViewOf<KvState>>(linker, view)?)
    }
}
