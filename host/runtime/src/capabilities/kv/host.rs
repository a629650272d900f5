use std::time::Duration;

use joule_world::kv::{Error, Host};

use super::KvState;

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

impl Host for KvState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(match check_key(&key) {
            Ok(()) => self.backend.get(&self.space, &key).await,
            Err(e) => Err(e),
        })
    }

    async fn set(&mut self, key: String, value: Vec<u8>, ttl_seconds: Option<u32>) -> wasmtime::Result<Result<(), Error>> {
        if ttl_seconds == Some(0) {
            return Ok(Err(Error::InvalidKey("a time to live must be at least 1 second".into())));
        }
        let ttl = ttl_seconds.map(|s| Duration::from_secs(s.into()));
        Ok(match check_key(&key) {
            Ok(()) => self.backend.set(&self.space, &key, &value, ttl).await,
            Err(e) => Err(e),
        })
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, Error>> {
        Ok(match check_key(&key) {
            Ok(()) => self.backend.delete(&self.space, &key).await,
            Err(e) => Err(e),
        })
    }

    async fn exists(&mut self, key: String) -> wasmtime::Result<Result<bool, Error>> {
        Ok(match check_key(&key) {
            Ok(()) => self.backend.exists(&self.space, &key).await,
            Err(e) => Err(e),
        })
    }

    async fn incr(&mut self, key: String, delta: i64) -> wasmtime::Result<Result<i64, Error>> {
        Ok(match check_key(&key) {
            Ok(()) => self.backend.incr(&self.space, &key, delta).await,
            Err(e) => Err(e),
        })
    }
}
