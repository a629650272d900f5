//! OCPP: answering charge points through `[[trigger.ocpp]]`.
//!
//! The host speaks the protocol (WebSocket, framing, message ids, one CALL at a time, both
//! versions' JSON schemas); a component decides who may connect and answers each CALL, in
//! its own unit of work, with the charge point as its caller. It implements [`ChargePoint`]
//! and exports it with [`export_ocpp_handler!`](crate::export_ocpp_handler):
//!
//! ```ignore
//! use joule_sdk::ocpp::{self, CallError, ChargePoint, Connection, Refusal, Request};
//! use serde_json::{Value, json};
//!
//! struct Station;
//!
//! impl ChargePoint for Station {
//!     fn connect(connection: Connection) -> Result<(), Refusal> {
//!         Ok(())
//!     }
//!
//!     fn handle(request: Request) -> Result<Value, CallError> {
//!         match request.action.as_str() {
//!             "Heartbeat" => Ok(json!({ "currentTime": ocpp::now() })),
//!             other => Err(CallError::not_supported(other)),
//!         }
//!     }
//! }
//!
//! joule_sdk::export_ocpp_handler!(Station);
//! ```
//!
//! The other way, a component granted `ocpp = {}` sends CALLs to charge points with
//! [`call`]; each outcome comes to its event handler as a [`CALL_RESULT_EVENT`].

use chrono::{SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::ocpp_bindings::exports::joule::platform::charge_point::Guest;
pub use crate::ocpp_bindings::exports::joule::platform::charge_point::{
    CallError, Connection, ErrorCode, Refusal, Request,
};

pub use crate::bindings::joule::platform::ocpp::Error as CallFailed;

/// The event type of a call's outcome; its data carries `requestId`, `chargePointId`,
/// `action`, the `request` payload and a `status` (see [`call`]).
pub const CALL_RESULT_EVENT: &str = "ocpp.call-result.v1";

/// Sends `action` with `payload` to the charge point once the unit of work commits, from
/// the replica holding its connection; returns the request id its result event carries.
/// The result's `status` is "result" (with the CALLRESULT's `payload`), "call-error" (with
/// `error`), "timeout", "not-connected", "invalid" or "failed" (with a `reason`).
pub fn call(charge_point_id: &str, action: &str, payload: &serde_json::Value) -> Result<String, CallFailed> {
    crate::bindings::joule::platform::ocpp::call(charge_point_id, action, &payload.to_string())
}

/// The `protocol` of an OCPP 1.6J connection.
pub const OCPP16: &str = "ocpp1.6";
/// The `protocol` of an OCPP 2.0.1 connection.
pub const OCPP201: &str = "ocpp2.0.1";

/// A component that OCPP charge points talk to.
///
/// The generated export trait carries the CALLRESULT as JSON text; this one takes a
/// `serde_json::Value`, so a handler builds answers with `json!` and never writes JSON by hand.
pub trait ChargePoint {
    /// Whether the charge point may connect, from its id and HTTP Basic password; a refusal
    /// is a 401 at the handshake.
    fn connect(connection: Connection) -> Result<(), Refusal>;

    /// Answers one CALL with the CALLRESULT's payload. An error becomes a CALLERROR and rolls
    /// the unit of work back; so does a panic, which the host answers as an internal error.
    fn handle(request: Request) -> Result<serde_json::Value, CallError>;
}

/// What `export_ocpp_handler!` exports: any [`ChargePoint`], with its answer as JSON text.
impl<T: ChargePoint> Guest for T {
    fn connect(connection: Connection) -> Result<(), Refusal> {
        <T as ChargePoint>::connect(connection)
    }

    fn handle(request: Request) -> Result<String, CallError> {
        <T as ChargePoint>::handle(request).map(|payload| payload.to_string())
    }
}

impl Request {
    /// A CALL of the charge point "CP-1", as the host would hand it over: for unit tests of
    /// components.
    pub fn example(protocol: &str, action: &str, payload: serde_json::Value) -> Self {
        Self {
            charge_point_id: "CP-1".into(),
            protocol: protocol.into(),
            action: action.into(),
            message_id: "1".into(),
            payload: payload.to_string(),
        }
    }

    /// Whether the charge point speaks OCPP 1.6J (else 2.0.1), where the two versions'
    /// payloads differ.
    pub fn is_v16(&self) -> bool {
        self.protocol == OCPP16
    }

    /// The payload, parsed into `T`. The host has checked it against the action's schema, so
    /// a failure means `T` asks for more than the schema does; it is still named as OCPP
    /// names a bad payload, so it can be answered as it is.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, CallError> {
        serde_json::from_str(&self.payload).map_err(|e| {
            let code = match e.classify() {
                Category::Data if e.to_string().starts_with("missing field") => {
                    ErrorCode::OccurrenceConstraintViolation
                }
                Category::Data => ErrorCode::TypeConstraintViolation,
                Category::Syntax | Category::Eof | Category::Io => ErrorCode::FormatViolation,
            };
            CallError::new(code, format!("unexpected {} payload: {e}", self.action))
        })
    }
}

impl CallError {
    /// A CALLERROR without details.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), details: None }
    }

    /// A fault of the platform while answering (the database, the outbox, timers): logged
    /// with what failed, answered as an `InternalError`, and the unit of work rolls back.
    pub fn internal(what: &str, error: impl std::fmt::Debug) -> Self {
        eprintln!("{what} failed: {error:?}");
        Self::new(ErrorCode::InternalError, "the call could not be recorded")
    }

    /// The answer to an action the component recognises but does not handle.
    pub fn not_supported(action: &str) -> Self {
        Self::new(ErrorCode::NotSupported, format!("{action} is not supported"))
    }

    /// The same error with `details`, which OCPP carries as a JSON object.
    pub fn with_details(self, details: serde_json::Value) -> Self {
        Self { details: Some(details.to_string()), ..self }
    }
}

/// What a message names on a charge point, in the platform's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The charge point as a whole (1.6 connector 0, 2.0.1 EVSE 0).
    ChargePoint,
    /// The station's connector with this `connectorId`.
    Connector(String),
    /// Ids no connector can have, described for the log.
    Unknown(String),
}

/// OCPP 1.6: connector N is the station's connector "N"; 0 is the charge point.
pub fn connector_v16(connector_id: i64) -> Target {
    match connector_id {
        0 => Target::ChargePoint,
        n if n > 0 => Target::Connector(n.to_string()),
        n => Target::Unknown(format!("connectorId {n}")),
    }
}

/// OCPP 2.0.1: EVSE e's connector 1 is the station's connector "e", its connector c > 1 is
/// "e-c"; EVSE 0 is the charging station.
pub fn connector_v201(evse_id: i64, connector_id: i64) -> Target {
    match (evse_id, connector_id) {
        (0, _) => Target::ChargePoint,
        (e, 1) if e > 0 => Target::Connector(e.to_string()),
        (e, c) if e > 0 && c > 1 => Target::Connector(format!("{e}-{c}")),
        (e, c) => Target::Unknown(format!("evseId {e}, connectorId {c}")),
    }
}

/// The current time as OCPP writes it (`currentTime` of BootNotification and Heartbeat):
/// RFC 3339 in UTC with `Z`, to the second, which every charge point can read.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::{Value, json};

    use super::*;

    fn request(payload: &str) -> Request {
        Request {
            charge_point_id: "CP-1".into(),
            protocol: OCPP16.into(),
            action: "Authorize".into(),
            message_id: "1".into(),
            payload: payload.into(),
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Authorize {
        id_tag: String,
    }

    #[test]
    fn payloads_parse_or_name_the_problem() {
        assert_eq!(request(r#"{"idTag":"TAG"}"#).payload_as::<Authorize>().unwrap().id_tag, "TAG");
        let missing = request("{}").payload_as::<Authorize>().unwrap_err();
        assert_eq!(missing.code, ErrorCode::OccurrenceConstraintViolation);
        assert!(missing.description.contains("Authorize") && missing.description.contains("idTag"), "{missing:?}");
        let wrong_type = request(r#"{"idTag":7}"#).payload_as::<Authorize>().unwrap_err();
        assert_eq!(wrong_type.code, ErrorCode::TypeConstraintViolation);
        assert_eq!(request("{").payload_as::<Value>().unwrap_err().code, ErrorCode::FormatViolation);
    }

    #[test]
    fn versions_and_errors() {
        assert!(request("{}").is_v16());
        assert!(!Request { protocol: OCPP201.into(), ..request("{}") }.is_v16());
        let error = CallError::not_supported("Reset").with_details(json!({ "hint": "none" }));
        assert_eq!(error.code, ErrorCode::NotSupported);
        assert_eq!(error.description, "Reset is not supported");
        assert_eq!(error.details.as_deref(), Some(r#"{"hint":"none"}"#));
    }

    struct Echo;

    impl ChargePoint for Echo {
        fn connect(connection: Connection) -> Result<(), Refusal> {
            if connection.password == "secret" { Ok(()) } else { Err(Refusal::WrongPassword) }
        }

        fn handle(request: Request) -> Result<Value, CallError> {
            Ok(json!({ "echo": request.payload_as::<Value>()? }))
        }
    }

    #[test]
    fn a_charge_point_is_exported_with_its_answer_as_json_text() {
        let connection = |password: &str| Connection {
            charge_point_id: "CP-1".into(),
            protocol: OCPP201.into(),
            password: password.into(),
        };
        assert_eq!(<Echo as Guest>::connect(connection("secret")), Ok(()));
        assert_eq!(<Echo as Guest>::connect(connection("guess")), Err(Refusal::WrongPassword));
        assert_eq!(<Echo as Guest>::handle(request(r#"{"a":1}"#)).unwrap(), r#"{"echo":{"a":1}}"#);
    }

    #[test]
    fn connector_ids_map_to_the_stations_connectors() {
        assert_eq!(connector_v16(0), Target::ChargePoint);
        assert_eq!(connector_v16(2), Target::Connector("2".into()));
        assert!(matches!(connector_v16(-1), Target::Unknown(_)));
        assert_eq!(connector_v201(0, 0), Target::ChargePoint);
        assert_eq!(connector_v201(1, 1), Target::Connector("1".into()));
        assert_eq!(connector_v201(3, 1), Target::Connector("3".into()));
        assert_eq!(connector_v201(3, 2), Target::Connector("3-2".into()));
        assert!(matches!(connector_v201(1, 0), Target::Unknown(_)));
        assert!(matches!(connector_v201(-1, 1), Target::Unknown(_)));
    }

    #[test]
    fn now_is_utc_with_z() {
        let now = now();
        assert!(now.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(&now).is_ok(), "{now}");
    }
}
