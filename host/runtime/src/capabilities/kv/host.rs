use std::time::Duration;

use joule_world::kv::{Error, Host};

use super::KvState;
use crate::capabilities::shape::View;

/// Keys longer than this are refused, on every backend alike.
const MAX_KEY_BYTES: usize = 1024;

fn check_key(key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::InvalidKey("a key cannot be empty".into()));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::InvalidKey(format!("a key is at most {MAX_KEY_BYTES} bytes, this one is {}", key.len())));
    }
    Ok(())
}

impl Host for View<'_, KvState> {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(match check_key(&key) {
            Ok(()) => self.state.backend.get(&self.state.space, &key).await,
            Err(e) => Err(e),
        })
    }

    async fn set(&mut self, key: String, value: Vec<u8>, ttl_seconds: Option<u32>) -> wasmtime::Result<Result<(), Error>> {
        if ttl_seconds == Some(0) {
            return Ok(Err(Error::InvalidKey("a time to live must be at least 1 second".into())));
        }
        let ttl = ttl_seconds.map(|s| Duration::from_secs(s.into()));
        Ok(match check_key(&key) {
            Ok(()) => self.state.backend.set(&self.state.space, &key, &value, ttl).await,
            Err(e) => Err(e),
        })
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, Error>> {
        Ok(match check_key(&key) {
            Ok(()) => self.state.backend.delete(&self.state.space, &key).await,
            Err(e) => Err(e),
        })
    }

    async fn exists(&mut self, key: String) -> wasmtime::Result<Result<bool, Error>> {
        Ok(match check_key(&key) {
            Ok(()) => self.state.backend.exists(&self.state.space, &key).await,
            Err(e) => Err(e),
        })
    }

    async fn incr(&mut self, key: String, delta: i64) -> wasmtime::Result<Result<i64, Error>> {
        Ok(match check_key(&key) {
            Ok(()) => self.state.backend.incr(&self.state.space, &key, delta).await,
            Err(e) => Err(e),
        })
    }
}
