//! Starting an invocation: the concurrency permit, a fresh store with the component's
//! limits, and each granted capability's state.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi_http::WasiHttpCtx;

use super::Invocation;
use crate::capabilities::callee::CallChain;
use crate::capabilities::outbound_http::OutboundHttpHooks;
use crate::capabilities::shape::{InvocationContext, Start};
use crate::component::{LoadedComponent, Overloaded};
use crate::database::DatabaseState;
use crate::state::{GuestLog, InvocationState, MemoryLimit};

impl Invocation {
    /// A new invocation of `component`, as a trigger starts one. Triggers run it through
    /// [`super::run`], which settles its unit of work; this alone is for measuring.
    pub fn start(component: &LoadedComponent, context: InvocationContext) -> Result<Self, Overloaded> {
        Self::start_on_behalf(component, context, Vec::new())
    }

    /// An invocation on behalf of `callers`, outermost first, as a pricing rule or template runs.
    pub(crate) fn called_by(component: &LoadedComponent, callers: Vec<Arc<str>>) -> Result<Self, Overloaded> {
        Self::start_on_behalf(component, InvocationContext::default(), callers)
    }

    fn start_on_behalf(
        component: &LoadedComponent,
        context: InvocationContext,
        callers: Vec<Arc<str>>,
    ) -> Result<Self, Overloaded> {
        let host = &*component.host;
        let permit = match &host.concurrency {
            None => None,
            Some(semaphore) => {
                Some(semaphore.clone().try_acquire_owned().map_err(|_| Overloaded(host.id.to_string()))?)
            }
        };
        let limits = &host.config.limits;
        let deadline = Instant::now() + limits.timeout;
        let (stdout, stderr) = GuestLog::pair(host.id.clone());
        let chain = CallChain { callers, component: host.id.clone() };
        let start = Start { component: &host.id, context: &context, chain: &chain };
        let capabilities = host.capabilities.start(&start);
        let state = InvocationState {
            wasi: WasiCtxBuilder::new().stdout(stdout).stderr(stderr).envs(&host.environment).build(),
            http: WasiHttpCtx::new(),
            http_hooks: OutboundHttpHooks::new(host.id.clone(), host.config.grants.outbound_http.clone()),
            table: ResourceTable::new(),
            limits: MemoryLimit::new(usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX)),
            unit: DatabaseState::new(host.id.clone(), host.database.clone(), deadline, Some(host.signals.clone())),
            context,
            capabilities,
        };
        let mut store = Store::new(&host.engine, state);
        store.limiter(|state| &mut state.limits);
        // Metering is engine-wide, on once any component sets a fuel limit; a component
        // without a limit of its own runs on all the fuel there is.
        if host.meters_fuel {
            store.set_fuel(limits.fuel.unwrap_or(u64::MAX)).expect("the engine meters fuel");
        }
        // Check the deadline at every epoch tick, yielding in between so a busy guest
        // never holds an executor thread for longer than one tick.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= deadline { UpdateDeadline::Interrupt } else { UpdateDeadline::Yield(1) })
        });
        Ok(Invocation::new(store, deadline, permit))
    }
}
