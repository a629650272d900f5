//! The JSON contract of the EV API.
//!
//! Errors always have the shape `{"error": {"code", "message", "details"?}}`:
//! 400 for malformed JSON, 404 for an unknown id, 409 for a conflict, 415 for a body
//! that is not JSON, and 422, naming each bad field, for JSON that is well formed but invalid.

mod error;
mod page;
mod validate;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use spin_sdk::http::{Request, Response};

pub use error::ApiError;
pub use page::Page;
pub use validate::{Problems, Reader};

/// A JSON response.
pub fn json<T: Serialize + ?Sized>(status: u16, body: &T) -> Response {
    let body = serde_json::to_vec(body).expect("API bodies always serialise");
    Response::builder().status(status).header("content-type", "application/json").body(body).build()
}

/// Publishes an event within the request's unit of work. A failure fails the request (500),
/// which rolls back the change it records too.
pub fn publish<T: Serialize + ?Sized>(event_type: &str, data: &T) -> Result<(), ApiError> {
    crate::events::publish(event_type, data).map(drop).map_err(|e| {
        eprintln!("publishing {event_type} failed: {e:?}");
        ApiError::new(500, "internal_error", "the change could not be recorded")
    })
}

/// A time as the API writes it: RFC 3339 in UTC, to the millisecond.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A 204 with no body.
pub fn no_content() -> Response {
    Response::builder().status(204).build()
}

/// Parses a JSON request body: 415 when it is not declared JSON (`application/json`
/// or any `application/*+json`), 400 when it does not parse.
pub fn read_json(request: &Request) -> Result<serde_json::Value, ApiError> {
    let content_type = request.header("content-type").and_then(|v| v.as_str()).unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let is_json = media_type == "application/json"
        || media_type.strip_prefix("application/").is_some_and(|subtype| subtype.ends_with("+json"));
    if !is_json {
        return Err(ApiError::new(415, "unsupported_media_type", "the body must be JSON, sent as application/json"));
    }
    serde_json::from_slice(request.body())
        .map_err(|e| ApiError::new(400, "malformed_json", format!("the body is not valid JSON: {e}")))
}

/// The request's query parameters, decoded.
pub fn query_params(request: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(request.query().as_bytes()).into_owned().collect()
}

/// Replaces spin-sdk's plain-text 404 and 405 (for paths and methods no handler matches)
/// with the API's JSON errors.
pub fn json_fallbacks(response: Response) -> Response {
    let plain = response.header("content-type").is_none();
    match *response.status() {
        404 if plain => ApiError::new(404, "not_found", "no such resource").into(),
        405 if plain => ApiError::new(405, "method_not_allowed", "this method is not allowed on this resource").into(),
        _ => response,
    }
}
