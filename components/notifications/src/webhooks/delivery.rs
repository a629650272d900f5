//! Delivering events to endpoints. Each event an enabled endpoint subscribes to becomes a
//! delivery row and a `notification.webhook-due.v1` event (both in the unit of work that
//! handled the event); the handler of that event sends it. A failed send is retried with the
//! queue's backoff until the last attempt the component allows, which records the delivery
//! as failed rather than leave it to the dead-letter queue, and counts against the endpoint.

use chrono::Utc;
use joule_sdk::events::{self, Event, HandlerError, PublishOptions};
use joule_sdk::variables;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::store::{self, Endpoint};
use super::{patterns, signing};

/// The event that asks for one delivery to be made.
pub const DUE: &str = "notification.webhook-due.v1";

/// Must stay below the `max_attempts` of the component's queue binding in `spin.toml`, so
/// the component, not the dead-letter queue, has the last word on a delivery.
const MOST_ATTEMPTS: i64 = 9;

fn retry(error: impl std::fmt::Debug) -> HandlerError {
    HandlerError::Retryable(format!("{error:?}"))
}

/// Attempts per delivery: `webhook_max_attempts`, default 8.
fn max_attempts() -> i64 {
    variables::whole("webhook_max_attempts", 8, 1, MOST_ATTEMPTS)
}

/// Failed deliveries in a row that disable an endpoint: `webhook_disable_after`, default 5.
fn disable_after() -> i64 {
    variables::whole("webhook_disable_after", 5, 1, 1000)
}

/// The body an endpoint receives: the event as a CloudEvents 1.0 JSON document.
fn body(event: &Event) -> String {
    let data: Value = serde_json::from_str(&event.data).unwrap_or_else(|_| Value::String(event.data.clone()));
    json!({
        "specversion": "1.0",
        "id": event.id,
        "source": event.source,
        "type": event.event_type,
        "time": event.time,
        "datacontenttype": event.data_content_type,
        "data": data,
    })
    .to_string()
}

/// Queues a delivery of `event` to each enabled endpoint that subscribes to its type.
pub fn fan_out(event: &Event) -> Result<(), HandlerError> {
    let endpoints = store::enabled().map_err(retry)?;
    let subscribed = endpoints.iter().filter(|e| e.event_types.iter().any(|p| patterns::matches(p, &event.event_type)));
    let mut body_once = None;
    for endpoint in subscribed {
        let body = body_once.get_or_insert_with(|| body(event));
        let id = joule_sdk::ids::time_ordered();
        if store::add_delivery(id, endpoint.id, &event.id, &event.event_type, body).map_err(retry)? {
            let options = PublishOptions { id: Some(id.to_string()), correlation_id: None };
            events::publish_with(DUE, &json!({ "deliveryId": id }), options).map_err(retry)?;
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Due {
    delivery_id: Uuid,
}

/// Handles `notification.webhook-due.v1`: one attempt at one delivery.
pub fn deliver(event: &Event) -> Result<(), HandlerError> {
    let due: Due = event.data_as()?;
    let Some(pending) = store::attempt(due.delivery_id, event.attempt).map_err(retry)? else { return Ok(()) };
    let endpoint = &pending.endpoint;
    if !endpoint.enabled {
        store::failed(due.delivery_id, endpoint.id, "the endpoint is disabled", i64::MAX).map_err(retry)?;
        return Ok(());
    }
    match send(endpoint, &due.delivery_id.to_string(), &pending.body) {
        Ok(_) => store::delivered(due.delivery_id, endpoint.id).map_err(retry),
        Err(failure) if i64::from(event.attempt) < max_attempts() => Err(HandlerError::Retryable(format!(
            "webhook delivery {} to {} failed (attempt {}): {}",
            due.delivery_id, endpoint.url, event.attempt, failure.reason
        ))),
        Err(failure) => {
            if store::failed(due.delivery_id, endpoint.id, &failure.reason, disable_after()).map_err(retry)? {
                eprintln!("webhook endpoint {} disabled: its deliveries keep failing ({})", endpoint.id, failure.reason);
            }
            Ok(())
        }
    }
}

/// Why a send failed: the receiver's status, if it answered.
pub struct Failure {
    pub status: Option<u16>,
    pub reason: String,
}

/// Sends `body` to the endpoint, signed, as delivery `id`; a 2xx answer is success.
pub fn send(endpoint: &Endpoint, id: &str, body: &str) -> Result<u16, Failure> {
    let failed = |status, reason: String| Failure { status, reason };
    let headers = signing::headers(&endpoint.secret, id, Utc::now().timestamp(), body).map_err(|e| failed(None, e))?;
    let mut request = spin_sdk::http::Request::post(endpoint.url.as_str(), body.to_string());
    // A length rather than chunks: receivers that verify signatures read the body whole.
    request
        .header("content-type", "application/json")
        .header("content-length", body.len().to_string())
        .header("user-agent", "joule-webhooks/1");
    for (name, value) in headers {
        request.header(name, value);
    }
    let sent = spin_sdk::http::run(spin_sdk::http::send::<_, spin_sdk::http::Response>(request.build()));
    let response = sent.map_err(|e| failed(None, format!("sending failed: {e}")))?;
    match *response.status() {
        status @ 200..=299 => Ok(status),
        status => Err(failed(Some(status), format!("the receiver answered {status}"))),
    }
}
