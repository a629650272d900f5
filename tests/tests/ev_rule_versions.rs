//! Pricing rule versions are pinned: a session keeps the rule version in force when it
//! started, and billing prices it with that version after a newer one is deployed.

use joule_tests::ev::{self, Monday, book, booking};
use joule_tests::{Joule, repo_root, send_json};
use serde_json::{Value, json};

/// Starts a session at 17:30 on a station with `tariff`. Reservations learns of tariffs from
/// their events, and a session started before the tariff's arrives pins no version, so this
/// tries on a fresh station until the copy is there: for up to a minute, as `eventually` waits,
/// since a loaded machine can hold the event back for many seconds.
async fn session_on_pinned_rule(joule: &Joule, tariff: &str, monday: &Monday) -> Value {
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(60) {
        let station = ev::create_station(joule, tariff).await;
        // A booking waits for the station's copy to reach reservations, as a session must.
        let (status, _) = book(joule, &booking(&station, "2", "driver-eve", &monday.text("08:00"), &monday.text("09:00"))).await;
        assert_eq!(status, 201);
        let start = json!({ "stationId": station, "connectorId": "1", "driverId": "driver-eve", "meterStartWh": 0,
                            "startedAt": monday.text("17:30") });
        let (status, session) = send_json(joule.operator().post(joule.url("/api/v1/sessions")), &start).await;
        assert_eq!(status, 201, "{session}");
        if !session["ruleVersion"].is_null() {
            return session;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the tariff never reached reservations within a minute");
}

#[tokio::test]
async fn billing_uses_the_rule_version_a_session_started_with() {
    let joule = Joule::platform().await;
    let http = joule.operator();
    let monday = Monday::coming();
    let tariff = json!({
        "currency": "EUR", "rule": "surge",
        "ruleOptions": { "multiplier": "1.5", "startTime": "17:00", "endTime": "20:00", "dayOfWeek": ["MONDAY"] },
        "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": "0.25", "vat": "20" }] }]
    });
    let (status, tariff) = send_json(http.post(joule.url("/api/v1/tariffs")), &tariff).await;
    assert_eq!(status, 201, "{tariff}");
    let session = session_on_pinned_rule(&joule, tariff["id"].as_str().unwrap(), &monday).await;
    assert_eq!((&session["rule"], &session["ruleVersion"]), (&"surge".into(), &1.into()), "{session}");

    // Version 2 of `surge` drops the surcharge: it is the plain OCPI rule.
    let ocpi = std::fs::read(repo_root().join("components/target/wasm32-wasip2/release/ocpi_rule.wasm")).unwrap();
    let (status, deployed) = joule.deploy("surge", ocpi).await;
    assert_eq!((status, &deployed["version"]), (201, &2.into()), "{deployed}");
    let quote = json!({ "tariffId": tariff["id"], "session": { "startedAt": monday.text("17:30"), "timeZone": ev::TIME_ZONE,
        "periods": [{ "startsAt": monday.text("17:30"), "endsAt": monday.text("18:30"), "energyWh": 10000 }] } });
    let (status, fresh) = send_json(http.post(joule.url("/api/v1/pricing/quote")), &quote).await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!((fresh["ruleVersion"].as_u64(), fresh["totalExclVat"].as_str()), (Some(2), Some("2.5000")), "{fresh}");

    let session_id = session["id"].as_str().unwrap();
    let invoice = ev::stop_and_invoice(&joule, session_id, 10000, &monday.text("18:30")).await;
    // 10 kWh at 0.25 with the 1.5 peak surcharge of version 1: 3.75, 4.50 with VAT.
    assert_eq!(
        (invoice["ruleVersion"].as_u64(), invoice["totalExclVat"].as_str(), invoice["totalInclVat"].as_str()),
        (Some(1), Some("3.75"), Some("4.50")),
        "{invoice}"
    );
}
