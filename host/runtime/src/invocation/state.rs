use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::database::DatabaseState;
use crate::capabilities::events::EventsState;
use crate::capabilities::kv::KvState;
use crate::capabilities::outbound_http::OutboundHttpHooks;
use crate::capabilities::pricing::PricingState;
use crate::capabilities::templates::TemplatesState;
use crate::capabilities::variables::VariablesState;

/// Everything one invocation's `Store` holds. It is built fresh for every invocation
/// and dropped after it, so no guest state survives from one invocation to the next.
pub struct InvocationState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) http_hooks: OutboundHttpHooks,
    pub(crate) table: ResourceTable,
    pub(crate) limits: super::MemoryLimit,
    pub(crate) database: DatabaseState,
    pub(crate) events: EventsState,
    pub(crate) kv: KvState,
    pub(crate) variables: VariablesState,
    pub(crate) pricing: PricingState,
    pub(crate) templates: TemplatesState,
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
