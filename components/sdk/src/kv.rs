//! The component's own key space; keys of other components cannot be named.

pub use crate::bindings::joule::platform::kv::Error;
use crate::bindings::joule::platform::kv as wit;

pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    wit::get(key)
}

/// Stores a value; with `ttl_seconds`, it expires after that long.
pub fn set(key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<(), Error> {
    wit::set(key, value, ttl_seconds)
}

pub fn delete(key: &str) -> Result<bool, Error> {
    wit::delete(key)
}

pub fn exists(key: &str) -> Result<bool, Error> {
    wit::exists(key)
}

/// Atomically adds `delta` (a missing key counts as 0) and returns the new value.
pub fn incr(key: &str, delta: i64) -> Result<i64, Error> {
    wit::incr(key, delta)
}
