//! The `ocpp` capability: CALLs to charge points, inside the unit of work. A call is an
//! event of the host's own type [`CALL_EVENT`] in the component's outbox, so it leaves only
//! if the invocation commits and the relay takes it to the broker like any event; the OCPP
//! trigger of the replica holding the charge point sends it, and the outcome comes back to
//! the component's handler as [`RESULT_EVENT`] (see `wit/platform.wit`).

mod host;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wasmtime::component::Linker;

use super::shape::{Capability, InvocationContext, Load, Start, View, ViewOf};
use crate::manifest::Grants;

/// The type of the outbox event that carries a call to the OCPP trigger.
pub const CALL_EVENT: &str = "ocpp.call.v1";
/// The type of the event that brings a call's outcome to the calling component.
pub const RESULT_EVENT: &str = "ocpp.call-result.v1";

/// A committed call, as [`CALL_EVENT`]'s data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OcppCall {
    /// Also the id of the result event, which the caller's inbox records.
    pub request_id: String,
    /// The calling component, which the result goes back to.
    pub component: String,
    pub charge_point_id: String,
    pub action: String,
    pub payload: serde_json::Value,
}

pub(crate) struct Ocpp;

/// The OCPP side of one invocation: who calls, in what context.
pub struct OcppState {
    component: Arc<str>,
    context: InvocationContext,
}

impl Capability for Ocpp {
    const NAME: &'static str = "ocpp";
    const GRANT_HINT: &'static str = "add `ocpp = {}` to its [component.<id>] table";
    const INTERFACES: &'static [&'static str] = &[joule_world::interface_names::OCPP];
    type Component = ();
    type State = OcppState;

    fn is_granted(grants: &Grants) -> bool {
        grants.ocpp
    }

    fn component(&self, _: &Load<'_>) {}

    fn state((): &(), start: &Start<'_>) -> OcppState {
        OcppState { component: start.component.clone(), context: start.context.clone() }
    }

    fn add_to_linker<T: Send + 'static>(linker: &mut Linker<T>, view: fn(&mut T) -> View<'_, OcppState>) -> anyhow::Result<()> {
        Ok(joule_world::ocpp::add_to_linker::<_, ViewOf<OcppState>>(linker, view)?)
    }
}
