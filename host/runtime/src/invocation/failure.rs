use wasmtime::{PoolConcurrencyLimitError, Trap};

use crate::state::MemoryLimitExceeded;

/// A trap's description is cut to this many bytes: one log line, however deep the guest's
/// stack or however long its panic message.
const MAX_TRAP_SUMMARY: usize = 256;

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
    /// The component trapped (HTTP 500). The detail, one bounded line, is for logs, not
    /// for callers.
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
            _ => {
                // The whole error carries the guest's backtrace and, with RUST_BACKTRACE set, the
                // host's: kilobytes per failure, which anyone able to make a guest trap could
                // repeat. It is kept for debugging only.
                tracing::debug!(error = ?error, "the guest's full trace");
                Self::Trap(summary(error))
            }
        }
    }

    /// What a caller is told: the kind of failure, never the guest's internals.
    /// The outcome an invocation that failed this way is counted under.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::OutOfFuel => "out_of_fuel",
            Self::OutOfMemory => "out_of_memory",
            Self::Overloaded => "overloaded",
            Self::Trap(_) => "trap",
        }
    }

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

/// The root cause of `error` on one line, at most [`MAX_TRAP_SUMMARY`] bytes.
fn summary(error: &wasmtime::Error) -> String {
    let cause = error.root_cause().to_string();
    let line = cause.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("unknown failure");
    if line.len() <= MAX_TRAP_SUMMARY {
        return line.to_string();
    }
    let mut end = MAX_TRAP_SUMMARY;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &line[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trap_is_summarised_on_one_bounded_line() {
        let deep = wasmtime::Error::msg(format!("{}\nsecond line", "x".repeat(10_000)))
            .context("error while executing at wasm backtrace:\n    0: frame\n    1: frame");
        let Failure::Trap(summary) = Failure::classify(&deep) else { panic!("a trap") };
        assert!(!summary.contains('\n'), "{summary}");
        assert!(summary.len() <= MAX_TRAP_SUMMARY + 3, "{} bytes", summary.len());
        assert!(summary.starts_with("xxx"), "the root cause, not the backtrace: {summary}");

        let trap = wasmtime::Error::from(Trap::UnreachableCodeReached).context("error while executing at wasm backtrace:");
        assert_eq!(Failure::classify(&trap), Failure::Trap(Trap::UnreachableCodeReached.to_string()));
    }
}
