//! The whole charging flow through the EV platform's own spin.toml, on whichever backends
//! the suite runs against: an operator's tariff and station, a driver's reservations, a
//! session against one, the invoice priced as DOMAIN.md's worked example, payment, and the
//! driver's notifications, each with the driver's own token.

use joule_tests::ev::{self, Monday, book_as, booking, get_as};
use joule_tests::{Joule, client, eventually, send_json};
use serde_json::{Value, json};

const DRIVER: &str = "driver-ada";

fn amount(line: &Value, key: &str) -> rust_decimal::Decimal {
    line[key].as_str().unwrap_or_else(|| panic!("{key} is not a decimal string in {line}")).parse().expect("a decimal")
}

#[tokio::test]
async fn a_reservation_becomes_a_session_an_invoice_a_payment_and_notifications() {
    let joule = Joule::platform().await;
    let http = joule.driver(DRIVER);
    let bob = joule.driver("driver-bob");
    let monday = Monday::coming();

    // 1. A tariff (the worked example) and a station that uses it.
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;

    // 2. A booking; an overlapping one is refused; one that ends where it starts is not.
    let (status, reservation) = book_as(&http, &joule, &booking(&station, "1", DRIVER, &monday.text("16:00"), &monday.text("17:00"))).await;
    assert_eq!(status, 201, "{reservation}");
    assert_eq!(reservation["status"], "confirmed");
    let reservation_id = reservation["id"].as_str().unwrap().to_string();
    let (status, clash) = book_as(&bob, &joule, &booking(&station, "1", "driver-bob", &monday.text("15:30"), &monday.text("16:15"))).await;
    assert_eq!(status, 409, "{clash}");
    assert_eq!(clash["error"]["code"], "reservation_conflict");
    assert_eq!(clash["error"]["details"]["conflictingReservationId"], reservation_id.as_str());
    let (status, before) = book_as(&bob, &joule, &booking(&station, "1", "driver-bob", &monday.text("15:00"), &monday.text("16:00"))).await;
    assert_eq!(status, 201, "back to back is no overlap: {before}");

    // 3. A session against the reservation, two meter readings' worth of periods, and the stop.
    let start = json!({ "stationId": station, "connectorId": "1", "driverId": DRIVER, "reservationId": reservation_id,
                        "meterStartWh": 1000, "startedAt": monday.text("16:30") });
    let (status, session) = send_json(http.post(joule.url("/api/v1/sessions")), &start).await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["status"], "active");
    assert_eq!(session["tariffId"], tariff.as_str());
    let session_id = session["id"].as_str().unwrap().to_string();
    let (_, fulfilled) = get_as(&http, &joule, &format!("/api/v1/reservations/{reservation_id}")).await;
    assert_eq!(fulfilled["status"], "fulfilled");
    assert_eq!(fulfilled["sessionId"], session_id.as_str());

    let reading = json!({ "timestamp": monday.text("17:00"), "energyWh": 6500 });
    let (status, body) = send_json(http.post(joule.url(&format!("/api/v1/sessions/{session_id}/meter-values"))), &reading).await;
    assert_eq!(status, 201, "{body}");
    let stop = json!({ "meterStopWh": 13800, "stoppedAt": monday.text("17:40"), "unpluggedAt": monday.text("18:02") });
    let (status, stopped) = send_json(http.post(joule.url(&format!("/api/v1/sessions/{session_id}/stop"))), &stop).await;
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["status"], "completed");
    assert_eq!(stopped["energyWh"], 12800);

    // 4. Billing prices the completed session's event into an invoice.
    let by_session = format!("/api/v1/invoices?sessionId={session_id}");
    eventually("the session's invoice", || async { get_as(&http, &joule, &by_session).await.1["items"].as_array().is_some_and(|i| !i.is_empty()) })
        .await;
    let invoice = get_as(&http, &joule, &by_session).await.1["items"][0].clone();
    assert_eq!((invoice["driverId"].as_str(), invoice["status"].as_str()), (Some(DRIVER), Some("open")), "{invoice}");
    ev::assert_worked_example_invoice(&invoice);
    let lines = invoice["lines"].as_array().unwrap();
    let excl: rust_decimal::Decimal = lines.iter().map(|l| amount(l, "amountExclVat")).sum();
    let incl: rust_decimal::Decimal = lines.iter().map(|l| amount(l, "amountInclVat")).sum();
    assert_eq!((excl.to_string(), incl.to_string()), ("6.5650".into(), "7.8780".into()));
    let invoice_id = invoice["id"].as_str().unwrap().to_string();
    let (status, fetched) = get_as(&http, &joule, &format!("/api/v1/invoices/{invoice_id}")).await;
    assert_eq!((status, &fetched), (200, &invoice));
    let (_, by_driver) = get_as(&http, &joule, &format!("/api/v1/invoices?driverId={DRIVER}")).await;
    assert_eq!(by_driver["items"], json!([invoice]));

    // 5. Payment, and it cannot be paid twice.
    let (status, paid) = send_json(http.post(joule.url(&format!("/api/v1/invoices/{invoice_id}/pay"))), &json!({})).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "paid");
    assert!(paid["paymentReference"].is_string(), "{paid}");
    let (status, again) = send_json(http.post(joule.url(&format!("/api/v1/invoices/{invoice_id}/pay"))), &json!({})).await;
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("invoice_not_open")));

    // 6. The driver heard of each step, payment.completed.v1 included; the other driver of theirs.
    let wanted = [
        "reservation.created.v1",
        "charging.session.started.v1",
        "charging.session.completed.v1",
        "invoice.created.v1",
        "payment.completed.v1",
    ];
    let inbox = format!("/api/v1/notifications?recipient={DRIVER}");
    let types = |body: &Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(|n| n["eventType"].as_str().unwrap().to_string()).collect()
    };
    eventually("the driver's five notifications", || async {
        let seen = types(&get_as(&http, &joule, &inbox).await.1);
        wanted.iter().all(|w| seen.iter().any(|s| s == w))
    })
    .await;
    let (_, notifications) = get_as(&http, &joule, &inbox).await;
    let mut seen = types(&notifications);
    seen.sort();
    let mut expected: Vec<String> = wanted.iter().map(|w| w.to_string()).collect();
    expected.sort();
    assert_eq!(seen, expected, "one notification per event, none twice: {notifications}");
    for notification in notifications["items"].as_array().unwrap() {
        assert_eq!(notification["recipient"], DRIVER);
        assert!(!notification["subject"].as_str().unwrap().is_empty(), "{notification}");
        assert!(notification["sentAt"].is_string(), "sent through the channel: {notification}");
    }
    let invoice_message = notifications["items"].as_array().unwrap().iter().find(|n| n["eventType"] == "invoice.created.v1").unwrap();
    assert!(invoice_message["body"].as_str().unwrap().contains("7.88"), "{invoice_message}");
    eventually("the other driver's booking notification", || async {
        types(&get_as(&bob, &joule, "/api/v1/notifications").await.1) == ["reservation.created.v1"]
    })
    .await;
}

#[tokio::test]
async fn a_failed_payment_leaves_the_invoice_open_and_tells_the_driver() {
    let joule = Joule::platform().await;
    let http = joule.operator();
    let monday = Monday::coming();
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    // Sessions wait for the station's copy just as bookings do.
    let (status, _) = book_as(&http, &joule, &booking(&station, "2", "driver-cy", &monday.text("08:00"), &monday.text("09:00"))).await;
    assert_eq!(status, 201);
    let start = json!({ "stationId": station, "connectorId": "1", "driverId": "driver-cy", "meterStartWh": 0,
                        "startedAt": monday.text("10:00") });
    let (status, session) = send_json(http.post(joule.url("/api/v1/sessions")), &start).await;
    assert_eq!(status, 201, "{session}");
    let session_id = session["id"].as_str().unwrap();
    let invoice = ev::stop_and_invoice(&joule, session_id, 10000, &monday.text("11:00")).await;
    // 10 kWh at 0.25 outside the Monday evening window, plus 0.50 flat: 3.00, 3.60 with VAT.
    assert_eq!((invoice["totalExclVat"].as_str(), invoice["totalInclVat"].as_str()), (Some("3.00"), Some("3.60")), "{invoice}");
    let pay = joule.url(&format!("/api/v1/invoices/{}/pay", invoice["id"].as_str().unwrap()));
    let (status, failed) = send_json(http.post(&pay), &json!({ "simulate": "fail" })).await;
    assert_eq!((status, failed["error"]["code"].as_str()), (402, Some("payment_failed")), "{failed}");
    let (_, still) = get_as(&http, &joule, &format!("/api/v1/invoices/{}", invoice["id"].as_str().unwrap())).await;
    assert_eq!(still["status"], "open");
    eventually("the failed payment's notification", || async {
        let (_, inbox) = get_as(&http, &joule, "/api/v1/notifications?recipient=driver-cy").await;
        inbox["items"].as_array().unwrap().iter().any(|n| n["eventType"] == "payment.failed.v1")
    })
    .await;
    let (status, paid) = send_json(http.post(&pay), &json!({})).await;
    assert_eq!((status, paid["status"].as_str()), (200, Some("paid")), "a failed payment can be retried: {paid}");
}

#[tokio::test]
async fn a_developers_own_pricing_rule_prices_quotes_and_tariffs_that_name_it() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    let tariff = json!({
        "currency": "EUR", "rule": "surge",
        "ruleOptions": { "multiplier": "1.5", "startTime": "17:00", "endTime": "20:00", "dayOfWeek": ["MONDAY"] },
        "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": "0.25", "vat": "20" }] }]
    });
    let session = |start: &str, end: &str| {
        json!({ "startedAt": monday.text(start), "timeZone": ev::TIME_ZONE,
                "periods": [{ "startsAt": monday.text(start), "endsAt": monday.text(end), "energyWh": 10000 }] })
    };
    let quote = |body: Value| {
        let joule = &joule;
        async move { send_json(client().post(joule.url("/api/v1/pricing/quote")), &body).await }
    };
    // 10 kWh at 0.25: 2.50, and 1.5 times that when the session starts in Monday's peak.
    let (status, peak) = quote(json!({ "tariff": tariff, "session": session("17:30", "18:30") })).await;
    assert_eq!(status, 200, "{peak}");
    assert_eq!((peak["rule"].as_str(), amount(&peak, "totalExclVat"), amount(&peak, "totalInclVat")), (Some("surge"), "3.75".parse().unwrap(), "4.50".parse().unwrap()));
    let (status, off_peak) = quote(json!({ "tariff": tariff, "session": session("10:00", "11:00") })).await;
    assert_eq!(status, 200, "{off_peak}");
    assert_eq!(amount(&off_peak, "totalExclVat"), "2.50".parse().unwrap());

    let (status, stored) = send_json(joule.operator().post(joule.url("/api/v1/tariffs")), &tariff).await;
    assert_eq!(status, 201, "{stored}");
    let (status, by_id) = quote(json!({ "tariffId": stored["id"], "session": session("17:30", "18:30") })).await;
    assert_eq!((status, &by_id), (200, &peak));
}
