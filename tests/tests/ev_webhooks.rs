//! The webhook channel against a real receiver (`tests/webhooks/receiver.py`), which checks
//! every signature with the `standardwebhooks` package: each subscribed event arrives once,
//! signed and freshly timestamped; a receiver that fails twice gets it on the third try; an
//! endpoint whose deliveries keep failing is disabled until an operator enables it.

use std::time::Duration;

use joule_tests::ev::{self, Monday, book, booking, get};
use joule_tests::webhook_receiver::WebhookReceiver;
use joule_tests::{Joule, eventually, read, send_json};
use serde_json::{Value, json};

const ENDPOINTS: &str = "/api/v1/notifications/webhooks";

/// Registers an endpoint at `receiver` for `event_types`, and hands it the secret.
async fn register(joule: &Joule, receiver: &WebhookReceiver, event_types: &[&str]) -> Value {
    let body = json!({ "url": receiver.url("/joule"), "eventTypes": event_types, "description": "ops" });
    let (status, endpoint) = send_json(joule.operator().post(joule.url(ENDPOINTS)), &body).await;
    assert_eq!(status, 201, "{endpoint}");
    let secret = endpoint["secret"].as_str().expect("the secret, shown once");
    assert!(secret.starts_with("whsec_"), "{endpoint}");
    receiver.trust(secret);
    endpoint
}

/// A station on the worked-example tariff, with a booking made so its copy has arrived.
async fn station(joule: &Joule, monday: &Monday) -> String {
    let tariff = ev::create_tariff(joule).await;
    let station = ev::create_station(joule, &tariff).await;
    let (status, _) = book(joule, &booking(&station, "2", "driver-x", &monday.text("06:00"), &monday.text("07:00"))).await;
    assert_eq!(status, 201);
    // Its event handled, so no endpoint registered next receives it.
    let notified = "/api/v1/notifications?recipient=driver-x";
    eventually("the booking notified", || async { get(joule, notified).await.1["items"].as_array().is_some_and(|i| !i.is_empty()) })
        .await;
    station
}

async fn reserve(joule: &Joule, station: &str, monday: &Monday, from: &str, to: &str) -> String {
    let (status, reservation) = book(joule, &booking(station, "1", "driver-w", &monday.text(from), &monday.text(to))).await;
    assert_eq!(status, 201, "{reservation}");
    reservation["id"].as_str().expect("reservation id").to_string()
}

fn deliveries_path(endpoint: &Value) -> String {
    format!("{ENDPOINTS}/{}/deliveries", endpoint["id"].as_str().expect("endpoint id"))
}

#[tokio::test]
async fn each_subscribed_event_arrives_once_signed_with_a_fresh_timestamp() {
    let receiver = WebhookReceiver::start(0).await;
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    let station = station(&joule, &monday).await;
    let endpoint = register(&joule, &receiver, &["reservation.created.v1"]).await;

    let first = reserve(&joule, &station, &monday, "09:00", "10:00").await;
    let second = reserve(&joule, &station, &monday, "10:00", "11:00").await;
    // Not subscribed to: cancellations.
    let cancel = joule.operator().delete(joule.url(&format!("/api/v1/reservations/{first}")));
    assert_eq!(read(cancel.send().await.unwrap()).await.0, 200);

    eventually("both bookings at the receiver", || async { receiver.requests().len() >= 2 }).await;
    // Time for a duplicate or an unsubscribed event to show up, were one sent.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let mut booked: Vec<&str> = requests.iter().map(|r| r["data"]["id"].as_str().unwrap_or_default()).collect();
    booked.sort();
    let mut expected = vec![first.as_str(), second.as_str()];
    expected.sort();
    assert_eq!(booked, expected, "{requests:#?}");
    for request in &requests {
        assert_eq!(request["verified"], true, "the signature verifies: {request}");
        assert_eq!(request["type"], "reservation.created.v1", "{request}");
        let age = request["ageSeconds"].as_f64().expect("a timestamp");
        assert!((-5.0..60.0).contains(&age), "a fresh timestamp: {request}");
        assert_eq!(request["answered"], 204);
    }
    assert_ne!(requests[0]["webhookId"], requests[1]["webhookId"]);

    let (status, deliveries) = get(&joule, &deliveries_path(&endpoint)).await;
    assert_eq!(status, 200, "{deliveries}");
    let items = deliveries["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{deliveries}");
    assert!(items.iter().all(|d| d["status"] == "delivered" && d["attempts"] == 1), "{deliveries}");

    // The operator's test send is signed the same way.
    let test = joule.operator().post(joule.url(&format!("{ENDPOINTS}/{}/test", endpoint["id"].as_str().unwrap())));
    let (status, outcome) = read(test.send().await.unwrap()).await;
    assert_eq!((status, &outcome["delivered"], &outcome["status"]), (200, &json!(true), &json!(204)), "{outcome}");
    let last = receiver.requests().last().cloned().expect("the test request");
    assert_eq!((&last["type"], &last["verified"]), (&json!("webhook.test"), &json!(true)), "{last}");
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_try() {
    let receiver = WebhookReceiver::start(2).await;
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    let station = station(&joule, &monday).await;
    let endpoint = register(&joule, &receiver, &["reservation.#"]).await;

    let booked = reserve(&joule, &station, &monday, "12:00", "13:00").await;
    eventually("three tries", || async { receiver.requests().len() >= 3 }).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let requests = receiver.requests();
    let answers: Vec<&Value> = requests.iter().map(|r| &r["answered"]).collect();
    assert_eq!(answers, [&json!(500), &json!(500), &json!(204)], "{requests:#?}");
    assert!(requests.iter().all(|r| r["webhookId"] == requests[0]["webhookId"] && r["verified"] == true), "{requests:#?}");
    assert_eq!(requests[2]["data"]["id"], booked.as_str());

    let path = deliveries_path(&endpoint);
    eventually("the delivery recorded", || async { get(&joule, &path).await.1["items"][0]["status"] == "delivered" }).await;
    assert_eq!(get(&joule, &path).await.1["items"][0]["attempts"], 3);
}

#[tokio::test]
async fn an_endpoint_whose_deliveries_keep_failing_is_disabled_until_enabled() {
    let receiver = WebhookReceiver::start(1000).await;
    let joule = Joule::with("spin.toml")
        .env("JOULE_VARIABLE_WEBHOOK_MAX_ATTEMPTS", "2")
        .env("JOULE_VARIABLE_WEBHOOK_DISABLE_AFTER", "2")
        .ready()
        .await;
    let monday = Monday::coming();
    let station = station(&joule, &monday).await;
    let endpoint = register(&joule, &receiver, &["reservation.created.v1"]).await;
    let path = format!("{ENDPOINTS}/{}", endpoint["id"].as_str().unwrap());

    reserve(&joule, &station, &monday, "14:00", "15:00").await;
    reserve(&joule, &station, &monday, "15:00", "16:00").await;
    eventually("the endpoint disabled", || async { get(&joule, &path).await.1["enabled"] == false }).await;
    let (_, disabled) = get(&joule, &path).await;
    assert!(disabled["disabledReason"].as_str().is_some_and(|r| r.contains("2 deliveries in a row")), "{disabled}");
    let (_, deliveries) = get(&joule, &deliveries_path(&endpoint)).await;
    let items = deliveries["items"].as_array().expect("items");
    assert!(items.len() == 2 && items.iter().all(|d| d["status"] == "failed" && d["attempts"] == 2), "{deliveries}");
    assert_eq!(receiver.requests().len(), 4, "two attempts each");

    // Disabled: a new booking is not sent.
    reserve(&joule, &station, &monday, "16:00", "17:00").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.requests().len(), 4);

    let (status, enabled) = send_json(joule.operator().patch(joule.url(&path)), &json!({ "enabled": true })).await;
    assert_eq!((status, &enabled["enabled"], &enabled["disabledReason"]), (200, &json!(true), &Value::Null), "{enabled}");
}

#[tokio::test]
async fn only_operators_register_endpoints_and_bad_registrations_are_422() {
    let joule = Joule::platform().await;
    let driver = joule.driver("driver-w");
    let body = json!({ "url": "https://hooks.example.com/x", "eventTypes": ["invoice.#"] });
    let (status, refused) = send_json(driver.post(joule.url(ENDPOINTS)), &body).await;
    assert_eq!(status, 403, "{refused}");

    let bad = json!({ "url": "ftp://hooks.example.com", "eventTypes": ["invoice..v1"], "secret": "mine" });
    let (status, error) = send_json(joule.operator().post(joule.url(ENDPOINTS)), &bad).await;
    assert_eq!(status, 422, "{error}");
    let details = &error["error"]["details"];
    for field in ["url", "eventTypes[0]", "secret"] {
        assert!(details[field].is_string(), "{field} is named: {error}");
    }
    let (status, none) = get(&joule, &format!("{ENDPOINTS}/0191e0a0-0000-7000-8000-000000000000")).await;
    assert_eq!((status, none["error"]["code"].as_str()), (404, Some("not_found")), "{none}");
    let (status, listed) = get(&joule, ENDPOINTS).await;
    assert_eq!((status, listed["items"].as_array().map(Vec::len)), (200, Some(0)), "nothing stored from bad input");
}
