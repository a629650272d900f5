//! A charge point's counterpart, for the OCPP trigger tests (OCPP 1.6J and 2.0.1).
//!
//! - `connect` admits the charge points of the variable `charge_points`, a comma-separated
//!   list of `id:password`;
//! - `handle` records every CALL in `calls`, then answers BootNotification, Heartbeat,
//!   StatusNotification, MeterValues, Authorize and DataTransfer with payloads valid against
//!   both versions' schemas (StatusNotification and MeterValues with `{}`, as both versions
//!   define them). Authorize's token `BLOCKED` is Blocked and `UNKNOWN` Invalid.
//!   DataTransfer's `vendorId` picks a misbehaviour: `trap` panics, `error` answers a
//!   CALLERROR (its row must roll back), `bad-response` answers against the response schema,
//!   `slow` answers after 1.5 s (so a test can send another CALL meanwhile);
//! - `GET /charge-point/calls` answers the recorded rows, in the order inserted.

use std::time::Duration;

use joule_sdk::ocpp::{self, CallError, ChargePoint, Connection, ErrorCode, Refusal, Request};
use joule_sdk::{db, identity, ids, variables};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request as HttpRequest, Response, Router};

struct Station;

impl ChargePoint for Station {
    fn connect(connection: Connection) -> Result<(), Refusal> {
        let known = variables::get("charge_points").map_err(|e| {
            eprintln!("charge_points is not set: {e:?}");
            Refusal::UnknownChargePoint
        })?;
        let password = known
            .split(',')
            .filter_map(|entry| entry.trim().split_once(':'))
            .find(|(id, _)| *id == connection.charge_point_id)
            .map(|(_, password)| password)
            .ok_or(Refusal::UnknownChargePoint)?;
        if password == connection.password { Ok(()) } else { Err(Refusal::WrongPassword) }
    }

    fn handle(request: Request) -> Result<Value, CallError> {
        record(&request)?;
        let payload: Value = request.payload_as()?;
        match request.action.as_str() {
            "BootNotification" => Ok(json!({ "status": "Accepted", "currentTime": ocpp::now(), "interval": 300 })),
            "Heartbeat" => Ok(json!({ "currentTime": ocpp::now() })),
            "StatusNotification" | "MeterValues" => Ok(json!({})),
            "Authorize" if request.is_v16() => {
                Ok(json!({ "idTagInfo": { "status": token_status(&payload["idTag"]) } }))
            }
            "Authorize" => Ok(json!({ "idTokenInfo": { "status": token_status(&payload["idToken"]["idToken"]) } })),
            "DataTransfer" => match payload["vendorId"].as_str() {
                Some("trap") => panic!("DataTransfer asked for a trap"),
                Some("error") => Err(CallError::new(ErrorCode::GenericError, "refused on purpose")),
                Some("bad-response") => Ok(json!({ "status": "Nope" })),
                Some("slow") => {
                    std::thread::sleep(Duration::from_millis(1500));
                    Ok(json!({ "status": "Accepted" }))
                }
                _ => Ok(json!({ "status": "Accepted" })),
            },
            other => Err(CallError::not_supported(other)),
        }
    }
}

joule_sdk::export_ocpp_handler!(Station);

/// Authorize's answer for a token, the same in both versions.
fn token_status(token: &Value) -> &'static str {
    match token.as_str() {
        Some("BLOCKED") => "Blocked",
        Some("UNKNOWN") => "Invalid",
        _ => "Accepted",
    }
}

/// Records the CALL and who the host says is calling, inside the unit of work.
fn record(request: &Request) -> Result<(), CallError> {
    let caller = identity::caller();
    let subject = caller.as_ref().map(|caller| caller.subject.clone());
    let roles = caller.as_ref().map(|caller| caller.roles.join(","));
    db::execute(
        "INSERT INTO calls (id, charge_point_id, protocol, action, message_id, payload, caller_subject, caller_roles)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &ids::time_ordered().to_string(),
            &request.charge_point_id,
            &request.protocol,
            &request.action,
            &request.message_id,
            &request.payload,
            &subject,
            &roles,
        ],
    )
    .map(drop)
    .map_err(|e| CallError::new(ErrorCode::InternalError, format!("recording the call failed: {e:?}")))
}

fn json(status: u16, body: Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

/// Every recorded CALL, in the order inserted.
fn calls(_: HttpRequest, _: Params) -> Response {
    let rows = db::query(
        "SELECT id, charge_point_id, protocol, action, message_id, payload, caller_subject, caller_roles
         FROM calls ORDER BY id",
        &[],
    );
    match rows {
        Ok(rows) => {
            let calls: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({
                        "id": r.get::<String>("id").ok(),
                        "charge_point_id": r.get::<String>("charge_point_id").ok(),
                        "protocol": r.get::<String>("protocol").ok(),
                        "action": r.get::<String>("action").ok(),
                        "message_id": r.get::<String>("message_id").ok(),
                        "payload": r.get::<String>("payload").ok(),
                        "caller_subject": r.get::<Option<String>>("caller_subject").ok().flatten(),
                        "caller_roles": r.get::<Option<String>>("caller_roles").ok().flatten(),
                    })
                })
                .collect();
            json(200, Value::Array(calls))
        }
        Err(e) => json(500, json!({ "error": format!("{e:?}") })),
    }
}

#[spin_sdk::http_component]
fn handle(request: HttpRequest) -> Response {
    let mut router = Router::new();
    router.get("/charge-point/calls", calls);
    router.handle(request)
}
