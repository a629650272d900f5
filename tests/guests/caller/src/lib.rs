//! Sends CALLs to charge points through the `ocpp` capability and keeps their outcomes.
//!
//! `POST /caller/calls` `{"chargePointId", "action", "payload", "fail"?}` makes a call and
//! answers `{"requestId"}`, or, with `"fail": true`, makes it and then fails, so the unit
//! of work rolls back and the call never leaves. `GET /caller/results/:id` answers the
//! result event's data with how many times it arrived, or 404 while none has;
//! `GET /caller/results` all of them, with when each was first handled.

use joule_sdk::db;
use joule_sdk::events::{Event, Handler, HandlerError};
use joule_sdk::ocpp;
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response, Router};

struct Caller;

impl Handler for Caller {
    fn handle(event: Event) -> Result<(), HandlerError> {
        if event.event_type != ocpp::CALL_RESULT_EVENT {
            return Err(HandlerError::Permanent(format!("unexpected event {}", event.event_type)));
        }
        let data: Value = event.data_as()?;
        let request_id = data["requestId"].as_str().unwrap_or_default().to_string();
        let handled_us = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64);
        db::execute(
            "INSERT INTO results (request_id, data, received, handled_us) VALUES ($1, $2, 1, $3)
             ON CONFLICT (request_id) DO UPDATE SET received = results.received + 1",
            &[&request_id, &data.to_string(), &handled_us],
        )
        .map_err(|e| HandlerError::Retryable(format!("{e:?}")))?;
        Ok(())
    }
}

joule_sdk::export_handler!(Caller);

fn json(status: u16, body: Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

fn call(request: Request, _: Params) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(request.body()) else {
        return json(400, json!({ "error": "the body is not JSON" }));
    };
    let charge_point_id = body["chargePointId"].as_str().unwrap_or_default();
    let action = body["action"].as_str().unwrap_or_default();
    match ocpp::call(charge_point_id, action, &body["payload"]) {
        Ok(_) if body["fail"] == true => json(500, json!({ "error": "failing after the call, as asked" })),
        Ok(request_id) => json(202, json!({ "requestId": request_id })),
        Err(ocpp::CallFailed::InvalidCall(why)) => json(422, json!({ "error": why })),
        Err(e) => json(503, json!({ "error": format!("{e:?}") })),
    }
}

fn result(_: Request, params: Params) -> Response {
    let id = params.get("id").unwrap_or_default();
    match db::query("SELECT data, received FROM results WHERE request_id = $1", &[&id]) {
        Ok(rows) => match rows.first() {
            Some(row) => {
                let data: Value = row.get::<String>("data").ok().and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default();
                json(200, json!({ "result": data, "received": row.get::<i64>("received").unwrap_or(-1) }))
            }
            None => json(404, json!({ "error": "no result yet" })),
        },
        Err(e) => json(500, json!({ "error": format!("{e:?}") })),
    }
}

/// Every result held, for the tests that count them.
fn results(_: Request, _: Params) -> Response {
    match db::query("SELECT data, received, handled_us FROM results ORDER BY request_id", &[]) {
        Ok(rows) => {
            let all: Vec<Value> = rows
                .iter()
                .map(|row| {
                    let data: Value = row.get::<String>("data").ok().and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default();
                    let (received, handled_us) = (row.get::<i64>("received").unwrap_or(-1), row.get::<i64>("handled_us").unwrap_or(-1));
                    json!({ "result": data, "received": received, "handledUs": handled_us })
                })
                .collect();
            json(200, Value::Array(all))
        }
        Err(e) => json(500, json!({ "error": format!("{e:?}") })),
    }
}

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    let mut router = Router::new();
    router.post("/caller/calls", call);
    router.get("/caller/results", results);
    router.get("/caller/results/:id", result);
    router.handle(request)
}
