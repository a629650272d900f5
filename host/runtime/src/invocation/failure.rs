use wasmtime::{PoolConcurrencyLimitError, Trap};

use super::MemoryLimitExceeded;

/// Why an invocation failed, in the terms its caller is answered in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The wall-clock limit passed (HTTP 504).
    #[error("the component ran past its time limit")]
    Timeout,
    /// The fuel limit ran out (HTTP 503).
    #[error("the component ran out of fuel")]
    OutOfFuel,
    /// The component tried to grow its memory past its limit (HTTP 503).
    #[error("the component exceeded its memory limit")]
    OutOfMemory,
    /// Every pooled instance slot is taken (HTTP 503).
    #[error("the host is at its instance limit")]
    Overloaded,
    /// The component trapped (HTTP 500). The detail is for logs, not for callers.
    #[error("the component failed: {0}")]
    Trap(String),
}

impl Failure {
    /// Classifies an error returned by wasmtime while instantiating or running a guest.
    pub fn classify(error: &wasmtime::Error) -> Self {
        if error.downcast_ref::<PoolConcurrencyLimitError>().is_some() {
            return Self::Overloaded;
        }
        if error.downcast_ref::<MemoryLimitExceeded>().is_some() {
            return Self::OutOfMemory;
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Self::Timeout,
            Some(Trap::OutOfFuel) => Self::OutOfFuel,
            _ => Self::Trap(format!("{error:?}")),
        }
    }

    /// What a caller is told: the kind of failure, never the guest's internals.
    pub fn public_message(&self) -> &'static str {
        match self {
            Self::Timeout => "the component ran past its time limit",
            Self::OutOfFuel => "the component ran out of fuel",
            Self::OutOfMemory => "the component exceeded its memory limit",
            Self::Overloaded => "the service is at capacity; retry shortly",
            Self::Trap(_) => "the component failed",
        }
    }
}
