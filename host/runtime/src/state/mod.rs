//! What one invocation's `Store` holds: WASI, the capabilities' state and the unit of work.
//! It is built fresh for every invocation and dropped after it, so no guest state survives
//! from one invocation to the next.

mod guest_log;
mod memory_limit;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::outbound_http::OutboundHttpHooks;
use crate::capabilities::shape::InvocationContext;
use crate::capabilities::{HasCapabilities, InvocationCapabilities};
use crate::database::DatabaseState;

pub(crate) use guest_log::GuestLog;
pub(crate) use memory_limit::MemoryLimit;
pub use memory_limit::MemoryLimitExceeded;

pub struct InvocationState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    /// Checks each outgoing request against `allowed_outbound_hosts`.
    pub(crate) http_hooks: OutboundHttpHooks,
    pub(crate) table: ResourceTable,
    pub(crate) limits: MemoryLimit,
    /// What triggered the invocation.
    pub(crate) context: InvocationContext,
    /// The unit of work: the component's transaction, its outbox and its inbox.
    pub(crate) unit: DatabaseState,
    pub(crate) capabilities: InvocationCapabilities,
}

impl WasiView for InvocationState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for InvocationState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.http_hooks }
    }
}

impl HasCapabilities for InvocationState {
    fn capabilities(&mut self) -> (&mut InvocationCapabilities, &mut DatabaseState) {
        (&mut self.capabilities, &mut self.unit)
    }
}
