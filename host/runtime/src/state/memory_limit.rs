//! A store's memory cap. Growing past it traps with [`MemoryLimitExceeded`], so the
//! caller learns the component hit its limit instead of seeing an allocator's abort.

use wasmtime::ResourceLimiter;

#[derive(Debug, thiserror::Error)]
#[error("the component tried to grow its memory to {desired} bytes, past its limit of {limit} bytes")]
pub struct MemoryLimitExceeded {
    pub desired: usize,
    pub limit: usize,
}

pub struct MemoryLimit {
    limit: usize,
}

impl MemoryLimit {
    pub fn new(limit: usize) -> Self {
        Self { limit }
    }
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.limit {
            return Err(MemoryLimitExceeded { desired, limit: self.limit }.into());
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|maximum| desired <= maximum))
    }
}
