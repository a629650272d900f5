//! Notification template for invoice and payment events.

use joule_sdk::templates::{Event, Message};
use serde_json::Value;

/// Renders an event for its driver; `None` for events that mean nothing to them.
pub fn render(event: &Event) -> Option<Message> {
    let data: Value = serde_json::from_str(&event.data).ok()?;
    let field = |name: &str| data[name].as_str().unwrap_or_default().to_string();
    let amount = data["totalInclVat"].as_str().or(data["totalExclVat"].as_str()).or(data["amount"].as_str()).unwrap_or("?");
    let currency = field("currency");
    let (subject, body) = match event.event_type.as_str() {
        "invoice.created.v1" => {
            let what = if data["kind"] == "parking" { "parking stay" } else { "session" };
            let excl = data["totalExclVat"].as_str().unwrap_or("?");
            let incl = data["totalInclVat"].as_str().map(|t| format!("\nTotal incl. VAT: {t} {currency}")).unwrap_or_default();
            let body = format!("Invoice {} for your {what}: {amount} {currency}.\nTotal excl. VAT: {excl} {currency}{incl}", field("id"));
            ("Your invoice", body)
        }
        "payment.completed.v1" => ("Payment received", format!("We received your payment of {amount} {currency}. Thank you.")),
        "payment.failed.v1" => ("Payment failed", format!("Your payment of {amount} {currency} failed: {}.", field("reason"))),
        _ => return None,
    };
    Some(Message { recipient: data["driverId"].as_str()?.to_string(), channel: "log".into(), subject: subject.into(), body })
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macro generates")]
mod export {
    use joule_sdk::templates::{Event, Message, Template};

    struct BillingMessages;

    impl Template for BillingMessages {
        fn render(event: Event) -> Option<Message> {
            super::render(&event)
        }
    }

    joule_sdk::export_template!(BillingMessages);
}
