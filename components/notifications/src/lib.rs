//! The notifications component: driver notifications rendered from events, and the
//! webhook channel operators register endpoints for.

mod delivery;
mod webhooks;

use chrono::{DateTime, Utc};
use joule_sdk::api::{self, ApiError, Owner};
use joule_sdk::db::{self, Row};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

/// The event handler that renders, stores and sends.
pub use delivery::Delivery;

fn notification(row: Row<'_>) -> Result<Value, db::Error> {
    let time = |at: Option<DateTime<Utc>>| at.map(api::time);
    Ok(json!({
        "id": row.get::<Uuid>("id")?,
        "recipient": row.get::<String>("recipient")?,
        "channel": row.get::<String>("channel")?,
        "subject": row.get::<String>("subject")?,
        "body": row.get::<String>("body")?,
        "eventId": row.get::<String>("event_id")?,
        "eventType": row.get::<String>("event_type")?,
        "createdAt": time(row.get("created_at")?),
        "sentAt": time(row.get("sent_at")?),
    }))
}

const COLUMNS: &str = "id, recipient, channel, subject, body, event_id, event_type, created_at, sent_at";

/// Notifications, oldest first, a page at a time: a driver's own, or for an operator the
/// named recipient's (`?recipient=`) or everyone's.
fn list(request: Request, _: Params) -> Result<Response, ApiError> {
    api::owned_page(&request, "notifications", COLUMNS, Owner { column: "recipient", parameter: "recipient" }, notification)
}

/// Dispatches a request to its handler; unknown paths and methods get JSON 404 and 405.
pub fn route(request: Request) -> Response {
    let mut router = api::Routes::new();
    router.get("/api/v1/notifications", list);
    router.get("/api/v1/notifications/webhooks", webhooks::list);
    router.post("/api/v1/notifications/webhooks", webhooks::register);
    router.get("/api/v1/notifications/webhooks/:id", webhooks::get);
    router.patch("/api/v1/notifications/webhooks/:id", webhooks::edit);
    router.delete("/api/v1/notifications/webhooks/:id", webhooks::remove);
    router.post("/api/v1/notifications/webhooks/:id/test", webhooks::test);
    router.get("/api/v1/notifications/webhooks/:id/deliveries", webhooks::deliveries);
    router.handle(request)
}

/// The wasm exports; unit tests build natively without them.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macros generate")]
mod export {
    use crate::Delivery;

    #[spin_sdk::http_component]
    fn handle(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::route(request)
    }

    joule_sdk::export_handler!(Delivery);
}
