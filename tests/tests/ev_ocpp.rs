//! Charge points of the EV platform: an operator gives a station its charge point id and
//! password, and a real charge point (PyPI `ocpp`) connects, boots, beats and reports its
//! connectors' statuses, which the station then shows.

use joule_tests::charge_point::{ChargePoint, OCPP16, OCPP201, Step};
use joule_tests::ev::{OCPP_PASSWORD as PASSWORD, create_ocpp_station, create_tariff, get, set_ocpp_password, station};
use joule_tests::ocpp_socket::{Dial, OcppSocket};
use joule_tests::{Joule, send_json};
use serde_json::{Value, json};

fn connect_status(steps: &[Step]) -> Option<u16> {
    steps.first().filter(|s| s.step == "connect").and_then(|s| s.status)
}

#[tokio::test]
async fn an_operator_sets_up_a_charge_point_and_it_reports_in() {
    let joule = Joule::platform().await;
    let tariff = create_tariff(&joule).await;
    let id = create_ocpp_station(&joule, &tariff, json!({ "chargePointId": "EV-CP-16" })).await;
    let (_, before) = get(&joule, &format!("/api/v1/stations/{id}")).await;
    assert_eq!(before["ocpp"]["chargePointId"], "EV-CP-16");
    assert_eq!(before["ocpp"]["passwordSet"], false);
    assert_eq!(before["connectors"][0]["ocppStatus"], Value::Null);

    // No password yet: nobody connects as this charge point.
    let charger = ChargePoint::new("EV-CP-16", PASSWORD, OCPP16);
    assert_eq!(connect_status(&charger.run(&joule.url(""), "station").await), Some(401));

    // Only an operator sets it, and only a long enough one.
    let driver = joule.driver("driver-1");
    assert_eq!(set_ocpp_password(&driver, &joule, &id, PASSWORD).await.0, 403);
    let (status, body) = set_ocpp_password(&joule.operator(), &joule, &id, "short").await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["details"]["password"].is_string(), "{body}");
    let unknown = "01900000-0000-7000-8000-000000000000";
    assert_eq!(set_ocpp_password(&joule.operator(), &joule, unknown, PASSWORD).await.0, 404);
    assert_eq!(set_ocpp_password(&joule.operator(), &joule, &id, PASSWORD).await.0, 204);

    let steps = charger.run(&joule.url(""), "station").await;
    assert!(steps.iter().all(|s| s.ok), "{steps:#?}");
    let boot = steps.iter().find(|s| s.step == "BootNotification").unwrap();
    assert_eq!((&boot.response["status"], &boot.response["interval"]), (&json!("Accepted"), &json!(300)));

    let (_, after) = get(&joule, &format!("/api/v1/stations/{id}")).await;
    let ocpp = &after["ocpp"];
    assert_eq!((&ocpp["vendor"], &ocpp["model"], &ocpp["passwordSet"]), (&json!("Joule Test"), &json!("CP-1"), &json!(true)));
    assert!(ocpp["lastBootAt"].is_string() && ocpp["lastSeenAt"].is_string(), "{after}");
    assert!(!after.to_string().contains(PASSWORD), "the password never comes back: {after}");
    let connector = &after["connectors"][0];
    assert_eq!((&connector["status"], &connector["ocppStatus"]), (&json!("Available"), &json!("Available")));

    // A car that stopped drawing power still holds the connector.
    let mut socket = OcppSocket::connect(&joule.url(""), Dial { id: "EV-CP-16", password: Some(PASSWORD), subprotocols: &["ocpp1.6"] })
        .await
        .unwrap();
    let answer = socket.call("s1", "StatusNotification", json!({"connectorId": 1, "errorCode": "NoError", "status": "SuspendedEV"})).await;
    assert_eq!(answer[0], 3, "{answer}");
    let (_, suspended) = get(&joule, &format!("/api/v1/stations/{id}")).await;
    let connector = &suspended["connectors"][0];
    assert_eq!((&connector["status"], &connector["ocppStatus"]), (&json!("Charging"), &json!("SuspendedEV")));

    let wrong = ChargePoint::new("EV-CP-16", "not-the-password-at-all", OCPP16);
    assert_eq!(connect_status(&wrong.run(&joule.url(""), "station").await), Some(401));
}

#[tokio::test]
async fn a_station_bound_to_2_0_1_takes_only_2_0_1() {
    let joule = Joule::platform().await;
    let tariff = create_tariff(&joule).await;
    let id = create_ocpp_station(&joule, &tariff, json!({ "chargePointId": "EV-CS-201", "protocol": "ocpp2.0.1" })).await;
    assert_eq!(set_ocpp_password(&joule.operator(), &joule, &id, PASSWORD).await.0, 204);
    let steps = ChargePoint::new("EV-CS-201", PASSWORD, OCPP201).run(&joule.url(""), "station").await;
    assert!(steps.iter().all(|s| s.ok), "{steps:#?}");
    let (_, after) = get(&joule, &format!("/api/v1/stations/{id}")).await;
    assert_eq!(after["ocpp"]["protocol"], "ocpp2.0.1");
    assert_eq!(after["connectors"][0]["ocppStatus"], "Available", "{after}");
    let as_16 = ChargePoint::new("EV-CS-201", PASSWORD, OCPP16).run(&joule.url(""), "station").await;
    assert_eq!(connect_status(&as_16), Some(401));
}

#[tokio::test]
async fn charge_point_ids_are_checked_unique_and_a_new_one_forgets_the_password() {
    let joule = Joule::platform().await;
    let tariff = create_tariff(&joule).await;
    let operator = joule.operator();
    for (ocpp, field) in [
        (json!({ "chargePointId": "has space" }), "ocpp.chargePointId"),
        (json!({ "chargePointId": "x".repeat(49) }), "ocpp.chargePointId"),
        (json!({ "chargePointId": "CP-1", "protocol": "ocpp2.1" }), "ocpp.protocol"),
    ] {
        let mut body = station(&tariff);
        body["ocpp"] = ocpp;
        let (status, answer) = send_json(operator.post(joule.url("/api/v1/stations")), &body).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["error"]["details"][field].is_string(), "{field}: {answer}");
    }
    let first = create_ocpp_station(&joule, &tariff, json!({ "chargePointId": "EV-CP-A" })).await;
    let mut body = station(&tariff);
    body["ocpp"] = json!({ "chargePointId": "EV-CP-A" });
    let (status, answer) = send_json(operator.post(joule.url("/api/v1/stations")), &body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (409, Some("charge_point_taken")), "{answer}");

    assert_eq!(set_ocpp_password(&operator, &joule, &first, PASSWORD).await.0, 204);
    let path = joule.url(&format!("/api/v1/stations/{first}"));
    let (status, renamed) = send_json(operator.patch(&path), &json!({ "ocpp": { "chargePointId": "EV-CP-B" } })).await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!((&renamed["ocpp"]["chargePointId"], &renamed["ocpp"]["passwordSet"]), (&json!("EV-CP-B"), &json!(false)));
    let (status, removed) = send_json(operator.patch(&path), &json!({ "ocpp": null })).await;
    assert_eq!((status, &removed["ocpp"]), (200, &Value::Null), "{removed}");
    let (status, answer) = set_ocpp_password(&operator, &joule, &first, PASSWORD).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("ocpp_not_configured")), "{answer}");
}

#[tokio::test]
async fn a_charge_point_authorizes_the_accounts_tokens() {
    let joule = Joule::platform().await;
    let tariff = create_tariff(&joule).await;
    let ada = joule.driver("ada");
    let operator = joule.operator();
    let soon = (chrono::Utc::now() + chrono::TimeDelta::seconds(2)).to_rfc3339();
    for token in [json!({ "type": "RFID", "uid": "04a2b3c4" }), json!({ "type": "RFID", "uid": "0B10C4ED" }), json!({ "type": "RFID", "uid": "0E4A11ED", "expiresAt": soon })] {
        let (status, body) = send_json(ada.post(joule.url("/api/v1/me/tokens")), &token).await;
        assert_eq!(status, 201, "{body}");
    }
    let block = joule.url("/api/v1/accounts/ada/tokens/0B10C4ED/status");
    assert_eq!(send_json(operator.put(block), &json!({ "status": "BLOCKED" })).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;

    for (id, protocol, ocpp) in [("EV-AUTH-16", OCPP16, "idTagInfo"), ("EV-AUTH-201", OCPP201, "idTokenInfo")] {
        let station = create_ocpp_station(&joule, &tariff, json!({ "chargePointId": id })).await;
        assert_eq!(set_ocpp_password(&operator, &joule, &station, PASSWORD).await.0, 204);
        let tokens = ["--token", "04A2B3C4", "--token", "0B10C4ED", "--token", "0E4A11ED", "--token", "NOBODY01"];
        let steps = ChargePoint::new(id, PASSWORD, protocol).run_with(&joule.url(""), "authorize", &tokens).await;
        assert!(steps.iter().all(|s| s.ok), "{protocol}: {steps:#?}");
        let statuses: Vec<&Value> = steps.iter().filter(|s| s.step == "Authorize").map(|s| &s.response[ocpp]["status"]).collect();
        assert_eq!(statuses, [&json!("Accepted"), &json!("Blocked"), &json!("Expired"), &json!("Invalid")], "{protocol}: {steps:#?}");
    }
}

#[tokio::test]
async fn a_charge_point_not_heard_for_three_heartbeat_intervals_is_offline_until_it_speaks() {
    let joule = Joule::with("spin.toml").env("JOULE_VARIABLE_OCPP_HEARTBEAT_INTERVAL_SECONDS", "1").ready().await;
    let tariff = create_tariff(&joule).await;
    let id = create_ocpp_station(&joule, &tariff, json!({ "chargePointId": "EV-CP-QUIET" })).await;
    assert_eq!(set_ocpp_password(&joule.operator(), &joule, &id, PASSWORD).await.0, 204);
    let charger = ChargePoint::new("EV-CP-QUIET", PASSWORD, OCPP16);
    let steps = charger.run(&joule.url(""), "station").await;
    assert_eq!(steps.iter().find(|s| s.step == "BootNotification").unwrap().response["interval"], 1, "{steps:#?}");
    let (_, heard) = get(&joule, &format!("/api/v1/stations/{id}")).await;
    assert_eq!(heard["ocpp"]["offlineSince"], Value::Null, "{heard}");

    // Silent from here: three seconds later a timer finds it so.
    let path = format!("/api/v1/stations/{id}");
    joule_tests::eventually("the charge point offline", || async { get(&joule, &path).await.1["ocpp"]["offlineSince"].is_string() })
        .await;
    let (_, offline) = get(&joule, &path).await;
    let at = |station: &Value, key: &str| station["ocpp"][key].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let silent_for = at(&offline, "offlineSince") - at(&offline, "lastSeenAt");
    assert_eq!(silent_for, chrono::TimeDelta::seconds(3), "three intervals after it was last heard: {offline}");

    let steps = charger.run(&joule.url(""), "station").await;
    assert!(steps.iter().all(|s| s.ok), "{steps:#?}");
    let (_, back) = get(&joule, &path).await;
    assert_eq!(back["ocpp"]["offlineSince"], Value::Null, "heard again: {back}");
}
