// The Authorize handler both versions share; each names its `STATUS` and includes this file.

use joule_sdk::ocpp::{CallError, ChargePoint, Connection, Refusal, Request};
use serde_json::{Value, json};

struct Authorizer;

impl ChargePoint for Authorizer {
    /// Only Authorize is routed here; the route's own component decides who connects.
    fn connect(_: Connection) -> Result<(), Refusal> {
        Err(Refusal::UnknownChargePoint)
    }

    fn handle(request: Request) -> Result<Value, CallError> {
        match request.action.as_str() {
            "Authorize" if request.is_v16() => Ok(json!({ "idTagInfo": { "status": STATUS } })),
            "Authorize" => Ok(json!({ "idTokenInfo": { "status": STATUS } })),
            other => Err(CallError::not_supported(other)),
        }
    }
}

joule_sdk::export_ocpp_handler!(Authorizer);
