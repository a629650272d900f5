//! Answers with the caller the host verified (the `identity` capability), for the identity
//! tests: `{"caller": null}` when anonymous, else the principal with its claims parsed.
//!
//! - `/whoami/operators-only` answers 403 unless the caller is an operator (joule-sdk's
//!   `require_role`);
//! - `POST /whoami/publish` publishes `whoami.called.v1`, and `POST /whoami/later` schedules a
//!   timer for `whoami.later.v1` due at once; each answers the event's id. The component's own
//!   handler records the actor the event arrived with, which `GET /whoami/actor/:id` answers
//!   (404 until it has arrived).

use joule_sdk::bindings::joule::platform::timers;
use joule_sdk::events::{Event, Handler, HandlerError};
use joule_sdk::{events, identity, kv};
use serde_json::{Value, json};
use spin_sdk::http::{IntoResponse, Request, Response};

struct Recorder;

impl Handler for Recorder {
    fn handle(event: Event) -> Result<(), HandlerError> {
        let actor = json!({ "actor": identity::actor() }).to_string();
        kv::set(&format!("actor:{}", event.id), actor.as_bytes(), None)
            .map_err(|e| HandlerError::Retryable(format!("kv: {e:?}")))
    }
}

joule_sdk::export_handler!(Recorder);

fn json(status: u16, body: Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    let path = request.path().to_string();
    if path.ends_with("/operators-only") {
        if let Err(refused) = identity::require_role(&["operator"]) {
            return refused.into_response();
        }
    }
    if path.ends_with("/publish") {
        return match events::publish("whoami.called.v1", &json!({})) {
            Ok(id) => json(202, json!({ "id": id })),
            Err(e) => json(500, json!({ "error": format!("{e:?}") })),
        };
    }
    if path.ends_with("/later") {
        // A time in the past falls due at once.
        return match timers::schedule("2000-01-01T00:00:00Z", "whoami.later.v1", "{}", None) {
            Ok(id) => json(202, json!({ "id": id })),
            Err(e) => json(500, json!({ "error": format!("{e:?}") })),
        };
    }
    if let Some(id) = path.split("/whoami/actor/").nth(1) {
        return match kv::get(&format!("actor:{id}")) {
            Ok(Some(seen)) => json(200, serde_json::from_slice(&seen).unwrap_or(Value::Null)),
            Ok(None) => json(404, json!({ "error": "not handled yet" })),
            Err(e) => json(500, json!({ "error": format!("{e:?}") })),
        };
    }
    let caller = identity::caller().map(|caller| {
        json!({
            "subject": caller.subject,
            "issuer": caller.issuer,
            "roles": caller.roles,
            "claims": serde_json::from_str::<Value>(&caller.claims).unwrap_or(Value::Null),
        })
    });
    json(200, json!({ "caller": caller, "actor": identity::actor() }))
}
