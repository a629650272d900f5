//! The webhook channel: operators register endpoints for event types
//! (`/api/v1/notifications/webhooks`), and each event a registered endpoint subscribes to is
//! sent to it signed (Standard Webhooks), retried with backoff through the queue, and the
//! endpoint disabled after repeated failed deliveries (`delivery.rs`).

mod delivery;
mod input;
mod patterns;
mod signing;
mod store;

pub use delivery::{DUE, deliver, fan_out};

use chrono::Utc;
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError};
use serde_json::json;
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use store::Endpoint;

type Result<T = Response> = std::result::Result<T, ApiError>;

/// The most deliveries `GET .../deliveries` shows: the latest ones.
const RECENT_DELIVERIES: i64 = 100;

pub fn register(request: Request, _: Params) -> Result {
    Caller::require_operator()?;
    let input = input::registration(&api::read_json(&request)?)?;
    let secret = signing::new_secret().map_err(|e| {
        eprintln!("no random source for a webhook secret: {e}");
        ApiError::new(503, "unavailable", "no secret could be made for the endpoint; try again")
    })?;
    let now = Utc::now();
    let endpoint = Endpoint {
        id: joule_sdk::ids::time_ordered(),
        url: input.url.unwrap_or_default(),
        event_types: input.event_types.unwrap_or_default(),
        description: input.description.flatten(),
        secret,
        enabled: true,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    store::insert(&endpoint)?;
    // The secret is shown this once, for the receiver to verify signatures with.
    let mut body = json!(endpoint);
    body["secret"] = json!(endpoint.secret);
    let mut response = api::json(201, &body);
    response.set_header("location", format!("/api/v1/notifications/webhooks/{}", endpoint.id));
    Ok(response)
}

pub fn list(_: Request, _: Params) -> Result {
    Caller::require_operator()?;
    Ok(api::json(200, &json!({ "items": store::list()? })))
}

pub fn get(_: Request, params: Params) -> Result {
    Caller::require_operator()?;
    Ok(api::json(200, &found(&params)?))
}

/// Edits an endpoint; `{"enabled": true}` turns a disabled one back on.
pub fn edit(request: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let input = input::edit(&api::read_json(&request)?)?;
    let mut endpoint = found(&params)?;
    if let Some(url) = input.url {
        endpoint.url = url;
    }
    if let Some(event_types) = input.event_types {
        endpoint.event_types = event_types;
    }
    if let Some(description) = input.description {
        endpoint.description = description;
    }
    if let Some(enabled) = input.enabled {
        endpoint.enabled = enabled;
        endpoint.disabled_reason = if enabled { None } else { Some("disabled by an operator".into()) };
    }
    endpoint.updated_at = Utc::now();
    store::update(&endpoint)?;
    Ok(api::json(200, &endpoint))
}

pub fn remove(_: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let id = endpoint_id(&params)?;
    if !store::delete(id)? {
        return Err(ApiError::not_found("webhook endpoint", &id.to_string()));
    }
    Ok(api::no_content())
}

/// Sends a signed `webhook.test` event now and says how the receiver answered.
pub fn test(_: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let endpoint = found(&params)?;
    let id = joule_sdk::ids::time_ordered().to_string();
    let body = json!({
        "specversion": "1.0",
        "id": id,
        "source": "notifications",
        "type": "webhook.test",
        "time": api::time(Utc::now()),
        "datacontenttype": "application/json",
        "data": { "endpointId": endpoint.id },
    });
    let outcome = match delivery::send(&endpoint, &id, &body.to_string()) {
        Ok(status) => json!({ "delivered": true, "status": status, "error": null }),
        Err(failure) => json!({ "delivered": false, "status": failure.status, "error": failure.reason }),
    };
    Ok(api::json(200, &outcome))
}

pub fn deliveries(_: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let endpoint = found(&params)?;
    Ok(api::json(200, &json!({ "items": store::deliveries(endpoint.id, RECENT_DELIVERIES)? })))
}

fn endpoint_id(params: &Params) -> Result<Uuid> {
    let raw = params.get("id").unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("webhook endpoint", raw))
}

fn found(params: &Params) -> Result<Endpoint> {
    let id = endpoint_id(params)?;
    store::find(id)?.ok_or_else(|| ApiError::not_found("webhook endpoint", &id.to_string()))
}
