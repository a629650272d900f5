//! What a fuzz pass of openapi.yaml found beyond single bad fields: concurrent changes to one
//! station, a session on a tariff no longer in force, explicit nulls where the schema has
//! none, and the `Allow` header of a component's 405.

use std::collections::BTreeSet;

use joule_tests::ev::{self, get};
use joule_tests::{Joule, read, send_json};
use serde_json::{Value, json};

/// Concurrent changes to one station run one after the other: each is a 200, none a 503
/// (SQLite refused a write after a stale read) and none lost (Postgres overwrote it).
#[tokio::test]
async fn concurrent_changes_to_one_station_all_succeed() {
    let joule = Joule::platform().await;
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let path = format!("/api/v1/stations/{station}");
    let mut changes = tokio::task::JoinSet::new();
    for i in 0..16 {
        let request = if i % 2 == 0 {
            (joule.operator().patch(joule.url(&path)), json!({ "name": format!("Harbour Hub {i}") }))
        } else {
            let status = if i % 4 == 1 { "Faulted" } else { "Available" };
            (joule.operator().put(joule.url(&format!("{path}/connectors/1/status"))), json!({ "status": status }))
        };
        changes.spawn(async move { send_json(request.0, &request.1).await });
    }
    while let Some(answer) = changes.join_next().await {
        let (status, body) = answer.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let (_, stored) = get(&joule, &path).await;
    let name = stored["name"].as_str().unwrap();
    assert!((0..16).step_by(2).any(|i| name == format!("Harbour Hub {i}")), "{stored}");
}

/// A session its tariff cannot price (started after the tariff's `endDateTime`) is refused at
/// the start, not left to dead-letter in billing without an invoice; one inside is invoiced.
#[tokio::test]
async fn a_session_cannot_start_on_a_tariff_no_longer_in_force() {
    let joule = Joule::platform().await;
    let mut expired = ev::worked_example_tariff();
    expired["endDateTime"] = json!("2025-01-01T00:00:00Z");
    let (status, tariff) = send_json(joule.operator().post(joule.url("/api/v1/tariffs")), &expired).await;
    assert_eq!(status, 201, "{tariff}");
    let station = ev::create_station(&joule, tariff["id"].as_str().unwrap()).await;
    let start = |started_at: &str| json!({ "stationId": station, "connectorId": "1", "driverId": "driver-x", "meterStartWh": 0, "startedAt": started_at });

    // Until the reservations component has both events, the start names no station, or is
    // not pinned to the tariff; such a session is stopped and the start tried again.
    let refused = loop {
        let (status, body) = send_json(joule.operator().post(joule.url("/api/v1/sessions")), &start("2026-01-05T10:00:00Z")).await;
        match status {
            201 if body["tariffVersion"].is_null() => {
                let stop = json!({ "meterStopWh": 0, "stoppedAt": "2026-01-05T10:00:00Z" });
                let url = joule.url(&format!("/api/v1/sessions/{}/stop", body["id"].as_str().unwrap()));
                assert_eq!(send_json(joule.operator().post(url), &stop).await.0, 200);
            }
            422 if body["error"]["details"]["stationId"].is_string() => {}
            _ => break (status, body),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(refused.0, 409, "{}", refused.1);
    assert_eq!(refused.1["error"]["code"], "tariff_not_in_force", "{}", refused.1);

    let (status, session) = send_json(joule.operator().post(joule.url("/api/v1/sessions")), &start("2024-12-31T22:00:00Z")).await;
    assert_eq!(status, 201, "{session}");
    let invoice = ev::stop_and_invoice(&joule, session["id"].as_str().unwrap(), 10_000, "2024-12-31T23:00:00Z").await;
    assert_eq!(invoice["tariffId"], tariff["id"], "{invoice}");
}

/// Null stands for "absent" only where openapi.yaml allows it (string fields); elsewhere it is
/// a 422 naming the field, so what is stored and echoed always fits the schema.
#[tokio::test]
async fn null_is_refused_where_the_schema_has_no_null() {
    let joule = Joule::platform().await;
    let mut tariff = ev::worked_example_tariff();
    tariff["minPrice"] = Value::Null;
    tariff["elements"][0]["priceComponents"][0]["vat"] = Value::Null;
    tariff["elements"][0]["restrictions"] = Value::Null;
    let (status, body) = send_json(joule.operator().post(joule.url("/api/v1/tariffs")), &tariff).await;
    assert_eq!(status, 422, "{body}");
    for field in ["minPrice", "elements[0].priceComponents[0].vat", "elements[0].restrictions"] {
        assert!(body["error"]["details"][field].is_string(), "{field} not named in {body}");
    }

    let mut named = ev::worked_example_tariff();
    named["name"] = Value::Null;
    named["endDateTime"] = Value::Null;
    let (status, body) = send_json(joule.operator().post(joule.url("/api/v1/tariffs")), &named).await;
    assert_eq!(status, 201, "null is absent in a string field: {body}");
}

/// A method no route of the path takes is a JSON 405 that says, in `Allow`, which ones do.
#[tokio::test]
async fn a_component_405_names_the_allowed_methods() {
    let joule = Joule::platform().await;
    let response = joule.operator().put(joule.url("/api/v1/stations")).send().await.unwrap();
    let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_string());
    let (status, body) = read(response).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let allowed: BTreeSet<String> = allow.expect("an Allow header").split(", ").map(str::to_string).collect();
    assert_eq!(allowed, BTreeSet::from(["GET", "HEAD", "POST"].map(String::from)));

    let response = joule.operator().post(joule.url("/api/v1/invoices/01a201af-0000-7000-8000-000000000000")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
}
