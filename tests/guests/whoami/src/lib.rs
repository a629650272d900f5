//! Answers with the caller the host verified (the `identity` capability), for the identity
//! tests: `{"caller": null}` when anonymous, else the principal with its claims parsed.
//! `/whoami/operators-only` answers 403 unless the caller is an operator (joule-sdk's
//! `require_role`).

use joule_sdk::identity;
use serde_json::{Value, json};
use spin_sdk::http::{IntoResponse, Request, Response};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    if request.path().ends_with("/operators-only") {
        if let Err(refused) = identity::require_role(&["operator"]) {
            return refused.into_response();
        }
    }
    let caller = identity::caller().map(|caller| {
        json!({
            "subject": caller.subject,
            "issuer": caller.issuer,
            "roles": caller.roles,
            "claims": serde_json::from_str::<Value>(&caller.claims).unwrap_or(Value::Null),
        })
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(json!({ "caller": caller }).to_string())
        .build()
}
