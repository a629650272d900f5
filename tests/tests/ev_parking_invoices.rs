//! Parking stays billed: a stay past its lot's free minutes is invoiced with the lot's
//! tariff's PARKING_TIME price to the account whose vehicle has the plate; a plate no
//! account has goes to the lot's default account, marked unassigned; a stay within the free
//! minutes is not invoiced.

use std::time::Duration;

use chrono::{SecondsFormat, TimeDelta, Utc};
use joule_tests::ev::get;
use joule_tests::{Joule, eventually, send_json};
use serde_json::{Value, json};

/// 2.00 an hour excl. 20% VAT, in steps of 15 minutes.
fn parking_tariff() -> Value {
    json!({
        "name": "Garage",
        "currency": "EUR",
        "elements": [{ "priceComponents": [{ "type": "PARKING_TIME", "price": "2.00", "vat": "20", "stepSize": 900 }] }]
    })
}

fn ago(minutes: i64) -> String {
    (Utc::now() - TimeDelta::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A lot of three car slots on `tariff`, 30 free minutes, billing unknown plates to `garage-owner`.
async fn lot(joule: &Joule, tariff: &str) -> String {
    let slots: Vec<Value> =
        (1..=3).map(|i| json!({ "slotId": format!("A{i}"), "level": "A", "kind": "ICE", "size": "CAR" })).collect();
    let body = json!({ "name": "Harbour Garage", "tariffId": tariff, "freeMinutes": 30, "defaultAccount": "garage-owner",
                       "timeZone": "Asia/Tokyo", "slots": slots });
    let (status, lot) = send_json(joule.operator().post(joule.url("/api/v1/parking/lots")), &body).await;
    assert_eq!(status, 201, "{lot}");
    lot["id"].as_str().expect("lot id").to_string()
}

/// Parks `regnum` from `parked` minutes ago until `left` minutes ago; returns the stay's departure.
async fn stay(joule: &Joule, lot: &str, regnum: &str, parked: i64, left: i64) -> Value {
    let park = json!({ "regnum": regnum, "kind": "ICE", "size": "CAR", "parkedAt": ago(parked) });
    let (status, parked) = send_json(joule.operator().post(joule.url(&format!("/api/v1/parking/lots/{lot}/park"))), &park).await;
    assert_eq!(status, 201, "{parked}");
    let leave = json!({ "regnum": regnum, "leftAt": ago(left) });
    let (status, departure) = send_json(joule.operator().post(joule.url(&format!("/api/v1/parking/lots/{lot}/leave"))), &leave).await;
    assert_eq!(status, 200, "{departure}");
    departure
}

async fn invoices_of(joule: &Joule, driver: &str, count: usize) -> Vec<Value> {
    let path = format!("/api/v1/invoices?driverId={driver}");
    eventually(&format!("{count} invoices of {driver}"), || async {
        get(joule, &path).await.1["items"].as_array().is_some_and(|items| items.len() >= count)
    })
    .await;
    get(joule, &path).await.1["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn stays_past_the_free_minutes_are_invoiced_to_the_plate_owner_or_the_lot() {
    let joule = Joule::platform().await;
    let (status, tariff) = send_json(joule.operator().post(joule.url("/api/v1/tariffs")), &parking_tariff()).await;
    assert_eq!(status, 201, "{tariff}");
    let lot = lot(&joule, tariff["id"].as_str().unwrap()).await;
    let vehicle = json!({ "make": "Nissan", "model": "Leaf", "regnum": "ab-123 x", "connectorTypes": ["CHAdeMO"] });
    let driver = joule.driver("driver-p");
    let (status, registered) = send_json(driver.post(joule.url("/api/v1/me/vehicles")), &vehicle).await;
    assert_eq!(status, 201, "{registered}");
    // Billing keeps its copy of plates from the vehicle's event, on the same queue the
    // stays' events take; give it a head start over the stay.
    tokio::time::sleep(Duration::from_secs(1)).await;

    // 95 minutes, 30 of them free: 65 billed, rounded up to 75 (15-minute steps): 2.50 + 20%.
    stay(&joule, &lot, "AB123X", 100, 5).await;
    let invoices = invoices_of(&joule, "driver-p", 1).await;
    let invoice = &invoices[0];
    assert_eq!(
        (&invoice["kind"], &invoice["regnum"], &invoice["unassigned"], &invoice["lotId"]),
        (&json!("parking"), &json!("AB123X"), &json!(false), &json!(lot)),
        "{invoice}"
    );
    assert_eq!((&invoice["totalExclVat"], &invoice["totalInclVat"], &invoice["currency"]), (&json!("2.50"), &json!("3.00"), &json!("EUR")));
    assert_eq!(invoice["sessionId"], Value::Null);
    let by_stay = format!("/api/v1/invoices?stayId={}", invoice["stayId"].as_str().expect("stay id"));
    assert_eq!(get(&joule, &by_stay).await.1["items"][0]["id"], invoice["id"]);
    // The driver sees it as theirs.
    let (status, own) = joule_tests::read(driver.get(joule.url(&format!("/api/v1/invoices/{}", invoice["id"].as_str().unwrap()))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{own}");

    // A plate nobody has: to the lot's default account, marked unassigned. 31 minutes: 1 billed, one step.
    stay(&joule, &lot, "ZZ999", 41, 10).await;
    let invoices = invoices_of(&joule, "garage-owner", 1).await;
    assert_eq!((&invoices[0]["unassigned"], &invoices[0]["regnum"]), (&json!(true), &json!("ZZ999")), "{:?}", invoices[0]);
    assert_eq!(invoices[0]["totalExclVat"], "0.50");

    // Within the free minutes: nothing to pay.
    stay(&joule, &lot, "AB123X", 4, 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(invoices_of(&joule, "driver-p", 1).await.len(), 1);
}
