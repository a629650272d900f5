//! The email channel through the EV platform, against a real SMTP server (aiosmtpd): a
//! driver whose profile turns email on gets the receipt of a charging session, with the
//! invoice's totals, from the sender the accounts component is granted; a driver who turned
//! email off gets none.

use std::time::Duration;

use joule_tests::ev::{self, Monday, get};
use joule_tests::smtp_server::SmtpServer;
use joule_tests::{Joule, eventually, send_json};
use serde_json::{Value, json};

/// A session on the worked-example tariff for `driver`, stopped and invoiced: 6.57 / 7.88 EUR.
async fn charge(joule: &Joule, station: &str, driver: &str, monday: &Monday) -> Value {
    let start = json!({ "stationId": station, "connectorId": "1", "driverId": driver, "meterStartWh": 1000,
                        "startedAt": monday.text("16:30") });
    let (status, session) = send_json(joule.operator().post(joule.url("/api/v1/sessions")), &start).await;
    assert_eq!(status, 201, "{session}");
    let session_id = session["id"].as_str().unwrap();
    let reading = json!({ "timestamp": monday.text("17:00"), "energyWh": 6500 });
    let (status, _) = send_json(joule.operator().post(joule.url(&format!("/api/v1/sessions/{session_id}/meter-values"))), &reading).await;
    assert_eq!(status, 201);
    let stop = json!({ "meterStopWh": 13800, "stoppedAt": monday.text("17:40"), "unpluggedAt": monday.text("18:02") });
    let (status, stopped) = send_json(joule.operator().post(joule.url(&format!("/api/v1/sessions/{session_id}/stop"))), &stop).await;
    assert_eq!(status, 200, "{stopped}");
    let by_session = format!("/api/v1/invoices?sessionId={session_id}");
    eventually("the invoice", || async { get(joule, &by_session).await.1["items"].as_array().is_some_and(|i| !i.is_empty()) }).await;
    get(joule, &by_session).await.1["items"][0].clone()
}

async fn profile(joule: &Joule, driver: &str, patch: Value) {
    let (status, profile) = send_json(joule.driver(driver).patch(joule.url("/api/v1/me")), &patch).await;
    assert_eq!(status, 200, "{profile}");
}

#[tokio::test]
async fn a_driver_who_wants_email_gets_the_receipt_with_the_invoice_totals() {
    let smtp = SmtpServer::start().await;
    let joule = Joule::with("spin.toml").env("SMTP_URL", &smtp.url()).ready().await;
    profile(&joule, "driver-mail", json!({ "displayName": "Ada Lovelace", "email": "ada@example.com" })).await;
    profile(&joule, "driver-quiet", json!({ "email": "quiet@example.com", "notificationPreferences": { "email": false } })).await;
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    // The reservations component's copy of the station: a session needs it.
    let (status, _) = ev::book(&joule, &ev::booking(&station, "2", "driver-x", &Monday::coming().text("06:00"), &Monday::coming().text("07:00"))).await;
    assert_eq!(status, 201);

    let invoice = charge(&joule, &station, "driver-mail", &Monday::coming()).await;
    assert_eq!((&invoice["totalExclVat"], &invoice["totalInclVat"]), (&json!("6.57"), &json!("7.88")));
    let receipt = |m: &&Value| m["subject"] == "Your invoice" && m["rcpt_tos"] == json!(["ada@example.com"]);
    eventually("the receipt mailed", || async { smtp.received().iter().any(|m| receipt(&m)) }).await;
    let mail = smtp.received().into_iter().find(|m| receipt(&m)).expect("the receipt");
    assert_eq!(mail["from"], "Joule <noreply@joule.example>", "{mail}");
    assert!(mail["to"].as_str().is_some_and(|to| to.contains("Ada Lovelace") && to.contains("ada@example.com")), "{mail}");
    let text = mail["text"].as_str().expect("a body");
    let id = invoice["id"].as_str().unwrap();
    for expected in [id, "Total excl. VAT: 6.57 EUR", "Total incl. VAT: 7.88 EUR"] {
        assert!(text.contains(expected), "{expected:?} in the receipt: {text}");
    }

    // Email off: the notification is stored, but nothing is mailed.
    let monday = Monday::coming_plus_weeks(1);
    charge(&joule, &station, "driver-quiet", &monday).await;
    let stored = "/api/v1/notifications?recipient=driver-quiet";
    eventually("the quiet driver's invoice notification", || async {
        get(&joule, stored).await.1["items"].as_array().is_some_and(|items| items.iter().any(|n| n["eventType"] == "invoice.created.v1"))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let to_quiet = smtp.received().into_iter().filter(|m| m["rcpt_tos"] == json!(["quiet@example.com"])).count();
    assert_eq!(to_quiet, 0, "{:?}", smtp.received());
}
