//! Notification template for the operators: a charge point that went offline, and one that
//! came back. The messages go to the recipient `operators`, whom every operator may list
//! (`GET /api/v1/notifications?recipient=operators`); a webhook endpoint subscribed to
//! `charger.#` reaches their paging or ticketing system.

use joule_sdk::templates::{Event, Message};
use serde_json::Value;

/// The recipient of operator messages.
pub const OPERATORS: &str = "operators";

/// Renders an event for the operators; `None` for events that mean nothing to them.
pub fn render(event: &Event) -> Option<Message> {
    let data: Value = serde_json::from_str(&event.data).ok()?;
    let field = |name: &str| data[name].as_str().unwrap_or("?").to_string();
    let charger = format!("Charge point {} (station {})", field("chargePointId"), field("stationId"));
    let (subject, body) = match event.event_type.as_str() {
        "charger.offline.v1" => (
            "Charge point offline",
            format!("{charger} has been silent since {}; offline since {}.", field("lastHeardAt"), field("offlineSince")),
        ),
        "charger.online.v1" => ("Charge point back online", format!("{charger} spoke again at {}.", field("at"))),
        _ => return None,
    };
    Some(Message { recipient: OPERATORS.into(), channel: "log".into(), subject: subject.into(), body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event_type: &str, data: &str) -> Event {
        Event {
            id: "e1".into(),
            source: "stations".into(),
            event_type: event_type.into(),
            time: "2026-12-05T00:00:00Z".into(),
            data_content_type: "application/json".into(),
            data: data.into(),
            correlation_id: None,
            traceparent: None,
            attempt: 1,
        }
    }

    #[test]
    fn offline_and_online_chargers_are_the_operators_news() {
        let offline = render(&event(
            "charger.offline.v1",
            r#"{"chargePointId":"CP1","stationId":"s1","lastHeardAt":"t0","offlineSince":"t1"}"#,
        ))
        .expect("a message");
        assert_eq!((offline.recipient.as_str(), offline.subject.as_str()), (OPERATORS, "Charge point offline"));
        assert!(offline.body.contains("CP1") && offline.body.contains("t1"), "{}", offline.body);
        assert!(render(&event("charger.online.v1", r#"{"chargePointId":"CP1","at":"t2"}"#)).is_some());
        assert!(render(&event("station.updated.v1", "{}")).is_none());
    }
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macro generates")]
mod export {
    use joule_sdk::templates::{Event, Message, Template};

    struct OperatorMessages;

    impl Template for OperatorMessages {
        fn render(event: Event) -> Option<Message> {
            super::render(&event)
        }
    }

    joule_sdk::export_template!(OperatorMessages);
}
