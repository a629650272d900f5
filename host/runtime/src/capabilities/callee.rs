//! Running another component on a caller's behalf, as the `pricing` and `templates`
//! capabilities do: in a store of its own, with its own limits, within its own deadline.

use tracing::Instrument as _;
use wasmtime::Store;

use crate::component::LoadedComponent;
use crate::invocation::{Failure, InvocationState};

/// Runs `call` in a fresh invocation of `component`; a failure is described for the caller.
pub(crate) async fn call<T>(
    component: &LoadedComponent,
    span: tracing::Span,
    call: impl AsyncFnOnce(&mut Store<InvocationState>) -> wasmtime::Result<T>,
) -> Result<T, String> {
    let mut invocation = component.invocation(Default::default()).map_err(|e| format!("{e}; retry shortly"))?;
    let deadline = invocation.deadline();
    match tokio::time::timeout_at(deadline.into(), call(invocation.store()).instrument(span)).await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(trap)) => Err(format!("{:?} failed: {}", component.id, Failure::classify(&trap))),
        Err(_) => Err(format!("{:?} ran past its time limit", component.id)),
    }
}
