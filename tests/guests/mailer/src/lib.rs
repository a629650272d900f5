//! Sends email through the `email` capability, for the email tests.
//!
//! `POST /send` `{"to": [...], "subject", "text"}` sends the message and answers 200, or
//! with the error's variant: 422 invalid, 503 unavailable, 502 rejected, and its reason.
//! `"textBytes": N` instead of `"text"` sends a body of N bytes, larger than a request may be.

use joule_sdk::email::{self, Error, Message};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response, Router};

fn json(status: u16, body: Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

fn send(request: Request, _: Params) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(request.body()) else {
        return json(400, json!({ "error": "the body is not JSON" }));
    };
    let text = |field: &str| body[field].as_str().unwrap_or_default().to_string();
    let to = body["to"].as_array().into_iter().flatten().map(|v| v.as_str().unwrap_or_default().to_string()).collect();
    let body_text = match body["textBytes"].as_u64() {
        Some(bytes) => "x".repeat(bytes as usize),
        None => text("text"),
    };
    let message = Message { to, subject: text("subject"), text: body_text };
    match email::send(&message) {
        Ok(()) => json(200, json!({ "sent": true })),
        Err(Error::Invalid(why)) => json(422, json!({ "error": "invalid", "reason": why })),
        Err(Error::Unavailable(why)) => json(503, json!({ "error": "unavailable", "reason": why })),
        Err(Error::Rejected(why)) => json(502, json!({ "error": "rejected", "reason": why })),
    }
}

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    let mut router = Router::new();
    router.post("/send", send);
    router.handle(request)
}
