//! The JSON contract of the EV API.
//!
//! Errors always have the shape `{"error": {"code", "message", "details"?}}`:
//! 400 for malformed JSON, 404 for an unknown id, 409 for a conflict, 415 for a body
//! that is not JSON, and 422, naming each bad field, for JSON that is well formed but invalid.

mod error;
mod fixed;
mod owned_page;
mod page;
mod problems;
mod routes;
pub mod text;
pub mod timestamp;
mod validate;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use spin_sdk::http::{Request, Response};

pub use error::ApiError;
pub use fixed::fixed;
pub use owned_page::{Owner, owned_page};
pub use page::Page;
pub use problems::Problems;
pub use routes::Routes;
pub use validate::{MAX_DECIMAL_CHARS, Reader};

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
        ApiError::unrecorded()
    })
}

/// A time as the API writes it: RFC 3339 in UTC, to the millisecond.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Serialises a time as [`time`] writes it: `#[serde(serialize_with = "joule_sdk::api::serialize_time")]`.
pub fn serialize_time<S: serde::Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time(*at))
}

/// A 204 with no body.
pub fn no_content() -> Response {
    Response::builder().status(204).build()
}

/// Parses a JSON request body: 415 when it is not declared JSON (`application/json`
/// or any `application/*+json`), 400 when it does not parse, and 422 naming each string or
/// key that holds a control character other than tab and line breaks (see [`text`]), so
/// none reaches any component's storage, whichever way it reads the field.
pub fn read_json(request: &Request) -> Result<serde_json::Value, ApiError> {
    let body = parse_json(request)?;
    let mut problems = Problems::new();
    for path in text::forbidden_paths(&body) {
        problems.add(path, "must not contain control characters other than tabs and line breaks");
    }
    problems.finish()?;
    Ok(body)
}

fn parse_json(request: &Request) -> Result<serde_json::Value, ApiError> {
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

/// The request's query parameters, decoded: 422 naming each parameter whose name or value
/// holds a control character (`?driverId=%00`), which no parameter may.
pub fn query_params(request: &Request) -> Result<Vec<(String, String)>, ApiError> {
    decode_query(request.query())
}

fn decode_query(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let mut problems = Problems::new();
    for (name, value) in &params {
        if text::forbidden_in_line(name) || text::forbidden_in_line(value) {
            problems.add(text::printable(name), "must not contain control characters");
        }
    }
    problems.finish()?;
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_with_control_characters_are_refused() {
        let params = decode_query("driverId=d%C3%B8&limit=5").unwrap();
        assert_eq!(params, [("driverId".to_string(), "dø".to_string()), ("limit".to_string(), "5".to_string())]);
        let error = decode_query("driverId=%00&limit=5&x%00=1").unwrap_err();
        assert_eq!(error.status, 422);
        let details = error.details.unwrap();
        assert_eq!(details["driverId"], "must not contain control characters");
        assert!(details["x\\0"].is_string(), "{details}");
    }
}
