use joule_world::ocpp::{Error, Host};

use super::{CALL_EVENT, OcppCall, OcppState};
use crate::capabilities::events::MAX_DATA_BYTES;
use crate::capabilities::shape::View;
use crate::events::Envelope;

/// OCPP's identity limit (1.6 `chargeBoxIdentity`, 2.0.1 `identity`).
const MAX_CHARGE_POINT_ID_CHARS: usize = 48;
/// Longer than any OCPP action's name.
const MAX_ACTION_CHARS: usize = 64;

impl Host for View<'_, OcppState> {
    async fn call(&mut self, charge_point_id: String, action: String, payload: String) -> wasmtime::Result<Result<String, Error>> {
        if let Err(problem) = check(&charge_point_id, &action, &payload) {
            return Ok(Err(Error::InvalidCall(problem)));
        }
        let payload: serde_json::Value = match serde_json::from_str(&payload) {
            Ok(payload @ serde_json::Value::Object(_)) => payload,
            Ok(_) => return Ok(Err(Error::InvalidCall("the payload is not a JSON object".into()))),
            Err(e) => return Ok(Err(Error::InvalidCall(format!("the payload is not valid JSON: {e}")))),
        };
        let state = &*self.state;
        let request_id = uuid::Uuid::now_v7().to_string();
        let call = OcppCall { request_id: request_id.clone(), component: state.component.to_string(), charge_point_id, action, payload };
        let data = serde_json::to_value(&call).expect("a call is JSON");
        let bytes = data.to_string().len();
        let context = &state.context;
        // The envelope's own id differs from the request id: the result event takes that one.
        let mut envelope = Envelope::new(
            uuid::Uuid::now_v7().to_string(),
            &state.component,
            CALL_EVENT,
            data,
            context.correlation_id.clone(),
            context.traceparent.clone(),
        );
        envelope.actor = context.actor.clone();
        Ok(match self.unit.enqueue(envelope, bytes).await {
            Ok(()) => Ok(request_id),
            Err(e) => Err(Error::Unavailable(format!("the call could not be written: {e:?}"))),
        })
    }
}

fn check(charge_point_id: &str, action: &str, payload: &str) -> Result<(), String> {
    if charge_point_id.is_empty() || charge_point_id.chars().count() > MAX_CHARGE_POINT_ID_CHARS {
        return Err(format!("a charge point id is 1 to {MAX_CHARGE_POINT_ID_CHARS} characters"));
    }
    if action.is_empty() || action.len() > MAX_ACTION_CHARS || !action.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("{action:?} is not an OCPP action name"));
    }
    if payload.len() > MAX_DATA_BYTES {
        return Err(format!("the payload is {} bytes; at most {MAX_DATA_BYTES}", payload.len()));
    }
    Ok(())
}
