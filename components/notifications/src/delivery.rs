//! The event handler: renders each event with the template for its type, stores the
//! message, and sends it through its channel; and hands each event to the webhook channel.

use chrono::Utc;
use joule_sdk::db;
use joule_sdk::events::{self, Event, Handler, HandlerError};
use joule_sdk::templates::{self, Message};

use serde_json::json;

use crate::webhooks;

/// Published for each message stored, naming its recipient, never their address.
const CREATED: &str = "notification.created.v1";

/// The notification-template component that serves an event type.
pub fn template_for(event_type: &str) -> Option<&'static str> {
    let family = event_type.split('.').next().unwrap_or_default();
    match family {
        "reservation" | "charging" => Some("session-messages"),
        "invoice" | "payment" => Some("billing-messages"),
        "charger" => Some("operator-messages"),
        _ => None,
    }
}

/// The channel stub: a log line the host tags with this component.
fn send(message: &Message) -> Result<(), String> {
    match message.channel.as_str() {
        "log" => {
            println!("notify {}: {} | {}", message.recipient, message.subject, message.body);
            Ok(())
        }
        other => Err(format!("no channel {other:?}")),
    }
}

fn retry(error: db::Error) -> HandlerError {
    HandlerError::Retryable(format!("{error:?}"))
}

pub struct Delivery;

impl Handler for Delivery {
    fn handle(event: Event) -> Result<(), HandlerError> {
        if event.event_type == webhooks::DUE {
            return webhooks::deliver(&event);
        }
        notify(&event)?;
        webhooks::fan_out(&event)
    }
}

/// Renders the event for its recipient, stores the message and sends it through its channel.
fn notify(event: &Event) -> Result<(), HandlerError> {
    let Some(template) = template_for(&event.event_type) else { return Ok(()) };
    let message = templates::render(template, event).map_err(|e| HandlerError::Retryable(format!("{e:?}")))?;
    let Some(message) = message else { return Ok(()) };
    let (id, now) = (joule_sdk::ids::time_ordered(), Utc::now());
    let stored = db::execute(
        "INSERT INTO notifications (id, recipient, channel, subject, body, event_id, event_type, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING",
        &[
            &id,
            &message.recipient,
            &message.channel,
            &message.subject,
            &message.body,
            &event.id,
            &event.event_type,
            &now,
        ],
    )
    .map_err(retry)?;
    if stored == 1 {
        send(&message).map_err(HandlerError::Permanent)?;
        db::execute("UPDATE notifications SET sent_at = $2 WHERE event_id = $1", &[&event.id, &now]).map_err(retry)?;
        // For the channels that need the recipient's contact details, which only the
        // accounts component keeps (it mails those who want email).
        let created = json!({ "notificationId": id, "recipient": message.recipient, "subject": message.subject,
                              "body": message.body, "eventId": event.id, "eventType": event.event_type });
        events::publish(CREATED, &created).map_err(|e| HandlerError::Retryable(format!("{e:?}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_family_has_a_template() {
        assert_eq!(template_for("reservation.expired.v1"), Some("session-messages"));
        assert_eq!(template_for("charging.session.completed.v1"), Some("session-messages"));
        assert_eq!(template_for("invoice.created.v1"), Some("billing-messages"));
        assert_eq!(template_for("payment.failed.v1"), Some("billing-messages"));
        assert_eq!(template_for("charger.offline.v1"), Some("operator-messages"));
        assert_eq!(template_for("station.created.v1"), None);
    }
}
