//! Who is on a connection: the charge point, its OCPP version, the trigger that routes its
//! actions, and the principal its invocations run as.

use std::sync::Arc;

use joule_identity::Principal;
use joule_runtime::manifest::OcppTriggerConfig;

use crate::protocol::Protocol;

/// The issuer a charge point's principal names: it authenticated at the OCPP endpoint, not
/// with a token.
pub const CHARGE_POINT_ISSUER: &str = "joule:ocpp";
/// The one role of a charge point's principal.
pub const CHARGE_POINT_ROLE: &str = "charge-point";

#[derive(Debug)]
pub struct Session {
    pub charge_point_id: String,
    pub protocol: Protocol,
    pub trigger: Arc<OcppTriggerConfig>,
    pub caller: Arc<Principal>,
    /// This connection's id (time-ordered), in the host's connection events.
    pub connection_id: String,
}

impl Session {
    pub fn new(charge_point_id: String, protocol: Protocol, trigger: Arc<OcppTriggerConfig>) -> Self {
        let caller = Arc::new(Principal {
            subject: charge_point_id.clone(),
            issuer: CHARGE_POINT_ISSUER.to_string(),
            roles: vec![CHARGE_POINT_ROLE.to_string()],
            claims: serde_json::json!({ "sub": charge_point_id, "protocol": protocol.subprotocol() }),
        });
        Self { charge_point_id, protocol, trigger, caller, connection_id: uuid::Uuid::now_v7().to_string() }
    }
}
