use wasmtime::Trap;

/// Why an invocation failed, in the terms its caller is answered in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The wall-clock limit passed (HTTP 504).
    #[error("the component ran past its time limit")]
    Timeout,
    /// The fuel limit ran out (HTTP 503).
    #[error("the component ran out of fuel")]
    OutOfFuel,
    /// The component trapped (HTTP 500).
    #[error("the component failed: {0}")]
    Trap(String),
}

impl Failure {
    /// Classifies an error returned by wasmtime while running a guest.
    pub fn classify(error: &wasmtime::Error) -> Self {
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Self::Timeout,
            Some(Trap::OutOfFuel) => Self::OutOfFuel,
            Some(trap) => Self::Trap(trap.to_string()),
            None => Self::Trap(format!("{error:#}")),
        }
    }
}
