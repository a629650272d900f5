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
use wasmtime::component::{HasData, Linker};

use crate::invocation::InvocationState;

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

/// The key-value side of one invocation.
pub struct KvState {
    backend: Arc<dyn KeyValueBackend>,
    space: Arc<str>,
}

impl KvState {
    pub fn new(backend: Arc<dyn KeyValueBackend>, space: Arc<str>) -> Self {
        Self { backend, space }
    }
}

struct KeyValue;

impl HasData for KeyValue {
    type Data<'a> = &'a mut KvState;
}

pub(crate) fn add_to_linker(linker: &mut Linker<InvocationState>) -> anyhow::Result<()> {
    Ok(joule_world::kv::add_to_linker::<_, KeyValue>(linker, |state| &mut state.kv)?)
}
