//! Notification template for reservation and charging-session events.

use joule_sdk::templates::{Event, Message};
use serde_json::Value;

/// Renders an event for its driver; `None` for events that mean nothing to them.
pub fn render(event: &Event) -> Option<Message> {
    let data: Value = serde_json::from_str(&event.data).ok()?;
    let field = |name: &str| data[name].as_str().map(str::to_string).unwrap_or_else(|| data[name].to_string());
    let at = format!("station {} connector {}", field("stationId"), field("connectorId"));
    let (subject, body) = match event.event_type.as_str() {
        "reservation.created.v1" => {
            ("Reservation confirmed", format!("Your reservation at {at} from {} to {} is confirmed.", field("startsAt"), field("endsAt")))
        }
        "reservation.cancelled.v1" => ("Reservation cancelled", format!("Your reservation at {at} from {} is cancelled.", field("startsAt"))),
        "reservation.expired.v1" => ("Reservation expired", format!("No session started for your reservation at {at}; it has expired.")),
        "charging.session.started.v1" => ("Charging started", format!("Charging started at {at} at {}.", field("startedAt"))),
        "charging.session.completed.v1" => {
            ("Charging complete", format!("Charging at {at} is complete: {} Wh delivered.", field("energyWh")))
        }
        _ => return None,
    };
    Some(Message { recipient: data["driverId"].as_str()?.to_string(), channel: "log".into(), subject: subject.into(), body })
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macro generates")]
mod export {
    use joule_sdk::templates::{Event, Message, Template};

    struct SessionMessages;

    impl Template for SessionMessages {
        fn render(event: Event) -> Option<Message> {
            super::render(&event)
        }
    }

    joule_sdk::export_template!(SessionMessages);
}
