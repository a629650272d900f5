//! Every EV endpoint's bad input gets DOMAIN.md's error shape and status, never a 5xx,
//! and leaves what was stored as it was.

use joule_tests::ev::{self, Monday, book, booking, get};
use joule_tests::{Joule, read};
use serde_json::{Value, json};

const MISSING: &str = "01a201af-0000-7000-8000-000000000000";

/// One bad request and what must come back: status, error code, and the detail fields named.
struct Case {
    method: &'static str,
    path: String,
    content_type: &'static str,
    body: String,
    status: u16,
    code: &'static str,
    fields: &'static [&'static str],
}

fn case(method: &'static str, path: impl Into<String>, body: Value, status: u16, code: &'static str, fields: &'static [&'static str]) -> Case {
    Case { method, path: path.into(), content_type: "application/json", body: body.to_string(), status, code, fields }
}

/// The same request with a body that is not JSON, or not declared JSON.
fn malformed(method: &'static str, path: impl Into<String>) -> [Case; 2] {
    let path = path.into();
    [
        Case { method, path: path.clone(), content_type: "application/json", body: "{\"oops\":".into(), status: 400, code: "malformed_json", fields: &[] },
        Case { method, path, content_type: "text/plain", body: "{}".into(), status: 415, code: "unsupported_media_type", fields: &[] },
    ]
}

async fn check(joule: &Joule, case: &Case) {
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut request = joule.operator().request(method, joule.url(&case.path));
    if !case.body.is_empty() {
        request = request.header("content-type", case.content_type).body(case.body.clone());
    }
    let (status, body) = read(request.send().await.unwrap()).await;
    let what = format!("{} {} {}", case.method, case.path, case.body);
    assert_eq!(status, case.status, "{what}: {body}");
    assert_eq!(body["error"]["code"], case.code, "{what}: {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {body}");
    for field in case.fields {
        assert!(body["error"]["details"][field].is_string(), "{what}: {field} not named in {body}");
    }
}

#[tokio::test]
async fn bad_input_to_every_ev_endpoint_gets_the_contract_errors() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let (status, reservation) = book(&joule, &booking(&station, "1", "driver-e", &monday.text("09:00"), &monday.text("10:00"))).await;
    assert_eq!(status, 201);
    let reservation = reservation["id"].as_str().unwrap().to_string();
    let start = json!({ "stationId": station, "connectorId": "2", "driverId": "driver-e", "meterStartWh": 100,
                        "startedAt": monday.text("11:00") });
    let (status, session) = joule_tests::send_json(joule.operator().post(joule.url("/api/v1/sessions")), &start).await;
    assert_eq!(status, 201, "{session}");
    let session = session["id"].as_str().unwrap().to_string();
    let sessions = format!("/api/v1/sessions/{session}");

    let mut cases = vec![
        // tariffs
        case("POST", "/api/v1/tariffs", json!({ "currency": "euro", "elements": [] }), 422, "validation_failed", &["currency", "elements"]),
        case("POST", "/api/v1/tariffs", json!([1, 2]), 422, "validation_failed", &[]),
        case(
            "POST",
            "/api/v1/tariffs",
            json!({ "currency": "EUR", "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": "x", "stepSize": 0 }],
                                                      "restrictions": { "endTime": "24:61" } }] }),
            422,
            "validation_failed",
            &["elements[0].priceComponents[0].price", "elements[0].priceComponents[0].stepSize", "elements[0].restrictions.endTime"],
        ),
        case("PUT", format!("/api/v1/tariffs/{MISSING}"), ev::worked_example_tariff(), 404, "not_found", &[]),
        case("GET", format!("/api/v1/tariffs/{MISSING}"), Value::Null, 404, "not_found", &[]),
        case("GET", "/api/v1/tariffs/not-a-uuid", Value::Null, 404, "not_found", &[]),
        case("GET", format!("/api/v1/tariffs/{tariff}?version=0"), Value::Null, 422, "validation_failed", &["version"]),
        case("GET", format!("/api/v1/tariffs/{tariff}?version=9"), Value::Null, 404, "not_found", &[]),
        // quotes
        case("POST", "/api/v1/pricing/quote", json!({}), 422, "validation_failed", &["tariffId", "session"]),
        case(
            "POST",
            "/api/v1/pricing/quote",
            json!({ "tariffId": MISSING, "session": { "startedAt": "yesterday", "timeZone": "Mars/Olympus" } }),
            422,
            "validation_failed",
            &["tariffId", "session.startedAt", "session.timeZone"],
        ),
        case(
            "POST",
            "/api/v1/pricing/quote",
            json!({ "tariff": { "currency": "EUR", "rule": "nobody-deployed-this",
                                "elements": [{ "priceComponents": [{ "type": "FLAT", "price": "1" }] }] },
                    "session": { "startedAt": "2026-11-23T10:00:00Z", "timeZone": "UTC" } }),
            422,
            "validation_failed",
            &["tariff.rule"],
        ),
        case(
            "POST",
            "/api/v1/pricing/quote",
            json!({ "tariffId": tariff, "session": { "startedAt": "2026-11-23T10:00:00Z", "chargingEndedAt": "2026-11-23T09:00:00Z",
                                                    "timeZone": "UTC" } }),
            422,
            "validation_failed",
            &["session"],
        ),
        // reservations
        case("POST", "/api/v1/reservations", json!({}), 422, "validation_failed", &["stationId", "connectorId", "startsAt", "endsAt"]),
        case(
            "POST",
            "/api/v1/reservations",
            booking(&station, "1", "driver-e", &monday.text("10:00"), &monday.text("09:00")),
            422,
            "validation_failed",
            &["endsAt"],
        ),
        case("POST", "/api/v1/reservations", booking(&station, "1", "d", "2020-01-01T10:00:00Z", "2020-01-01T11:00:00Z"), 422, "validation_failed", &["startsAt"]),
        case("POST", "/api/v1/reservations", booking(MISSING, "1", "d", &monday.text("10:00"), &monday.text("11:00")), 422, "validation_failed", &["stationId"]),
        case("POST", "/api/v1/reservations", booking(&station, "9", "d", &monday.text("10:00"), &monday.text("11:00")), 422, "validation_failed", &["connectorId"]),
        case("POST", "/api/v1/reservations", booking(&station, "1", "d", &monday.text("09:30"), &monday.text("10:30")), 409, "reservation_conflict", &[]),
        case("GET", format!("/api/v1/reservations/{MISSING}"), Value::Null, 404, "not_found", &[]),
        case("DELETE", format!("/api/v1/reservations/{MISSING}"), Value::Null, 404, "not_found", &[]),
        case("GET", "/api/v1/reservations?driverId=d&limit=0&cursor=zzz", Value::Null, 422, "validation_failed", &["limit", "cursor"]),
        // sessions
        case("POST", "/api/v1/sessions", json!({ "meterStartWh": -1 }), 422, "validation_failed", &["stationId", "connectorId", "meterStartWh"]),
        case("POST", "/api/v1/sessions", start.clone(), 409, "connector_busy", &[]),
        case(
            "POST",
            "/api/v1/sessions",
            json!({ "stationId": station, "connectorId": "1", "driverId": "someone-else", "meterStartWh": 0, "startedAt": monday.text("09:30") }),
            409,
            "connector_reserved",
            &[],
        ),
        case(
            "POST",
            "/api/v1/sessions",
            json!({ "stationId": station, "connectorId": "1", "driverId": "intruder", "reservationId": reservation,
                    "meterStartWh": 0, "startedAt": monday.text("12:00") }),
            422,
            "validation_failed",
            &["reservationId"],
        ),
        case("GET", format!("/api/v1/sessions/{MISSING}"), Value::Null, 404, "not_found", &[]),
        case("POST", format!("{sessions}/meter-values"), json!({ "timestamp": monday.text("10:00"), "energyWh": 50 }), 422, "validation_failed", &["timestamp", "energyWh"]),
        case("POST", format!("{sessions}/meter-values"), json!({ "energyWh": "lots" }), 422, "validation_failed", &["timestamp", "energyWh"]),
        case("POST", format!("/api/v1/sessions/{MISSING}/meter-values"), json!({ "timestamp": monday.text("12:00"), "energyWh": 500 }), 404, "not_found", &[]),
        case(
            "POST",
            format!("{sessions}/stop"),
            json!({ "meterStopWh": 10, "stoppedAt": monday.text("10:00"), "unpluggedAt": monday.text("09:00") }),
            422,
            "validation_failed",
            &["meterStopWh", "stoppedAt", "unpluggedAt"],
        ),
        case("POST", format!("/api/v1/sessions/{MISSING}/stop"), json!({ "meterStopWh": 10 }), 404, "not_found", &[]),
        // invoices
        case("GET", format!("/api/v1/invoices/{MISSING}"), Value::Null, 404, "not_found", &[]),
        case("GET", format!("/api/v1/invoices?sessionId={session}&driverId=d"), Value::Null, 422, "validation_failed", &["sessionId"]),
        case("POST", format!("/api/v1/invoices/{MISSING}/pay"), json!({}), 404, "not_found", &[]),
        case("POST", format!("/api/v1/invoices/{MISSING}/pay"), json!({ "simulate": "maybe" }), 422, "validation_failed", &["simulate"]),
        // notifications
        case("GET", "/api/v1/notifications?recipient=d&limit=1000", Value::Null, 422, "validation_failed", &["limit"]),
        // unknown paths and methods under the components' routes
        case("DELETE", "/api/v1/sessions", Value::Null, 405, "method_not_allowed", &[]),
        case("GET", "/api/v1/sessions?limit=0", Value::Null, 422, "validation_failed", &["limit"]),
        case("PATCH", format!("/api/v1/invoices/{MISSING}"), Value::Null, 405, "method_not_allowed", &[]),
        case("GET", "/api/v1/pricing/nothing", Value::Null, 404, "not_found", &[]),
    ];
    for (method, path) in [
        ("POST", "/api/v1/tariffs".to_string()),
        ("PUT", format!("/api/v1/tariffs/{tariff}")),
        ("POST", "/api/v1/pricing/quote".into()),
        ("POST", "/api/v1/reservations".into()),
        ("POST", "/api/v1/sessions".into()),
        ("POST", format!("{sessions}/meter-values")),
        ("POST", format!("{sessions}/stop")),
    ] {
        cases.extend(malformed(method, path));
    }
    for case in &cases {
        check(&joule, case).await;
    }

    // Nothing the bad requests touched changed.
    let (_, stored) = get(&joule, &format!("/api/v1/tariffs/{tariff}")).await;
    assert_eq!(stored["version"], 1);
    let (_, kept) = get(&joule, &format!("/api/v1/reservations/{reservation}")).await;
    assert_eq!(kept["status"], "confirmed");
    let (_, active) = get(&joule, &sessions).await;
    assert_eq!((active["status"].as_str(), active["meterStartWh"].as_i64()), (Some("active"), Some(100)));
}
