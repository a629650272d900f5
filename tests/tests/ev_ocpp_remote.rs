//! A driver starts and stops charging from the app on an OCPP station: `POST /sessions`
//! sends the charge point a remote start through the `ocpp` capability, the charge point
//! (`scripts/simulate-chargers`, on the PyPI package `ocpp`) starts the transaction, and
//! `POST /sessions/{id}/stop` ends it the same way; the invoice follows. Against the real
//! services the request lands on one replica while the charge point is connected to the other.

use std::time::Duration;

use joule_tests::charge_point::{ChargePoint, OCPP16, OCPP201, ocpp_url, python};
use joule_tests::ev::{OCPP_PASSWORD, get, get_as};
use joule_tests::{Joule, State, eventually, real_backends, repo_root, send_json};
use serde_json::{Value, json};
use tokio::process::Child;

/// A simulated charge point of `protocol` that charges only when asked, provisioned on `joule`.
fn remote_charger(joule: &Joule, protocol: &str, prefix: &str, tag: &str, driver: &str, extra_args: &[&str]) -> Child {
    let (operator, driver) = (joule.token("remote-operator", &["operator"]), joule.token(driver, &["driver"]));
    tokio::process::Command::new(python())
        .arg(repo_root().join("scripts/simulate_chargers.py"))
        .args([
            "--url", &ocpp_url(&joule.url("")), "--api", &joule.url(""), "--protocol", protocol, "--prefix", prefix,
            "--tag", tag, "--chargers", "1", "--sessions", "1", "--remote-only", "--charge-for", "60",
            "--meter-every", "0.5", "--park-for", "0", "--operator-token", &operator, "--driver-token", &driver,
        ])
        .args(extra_args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the simulator")
}

/// The station of charge point `cp`, once it has booted.
async fn booted_station(joule: &Joule, cp: &str) -> String {
    for _ in 0..600 {
        let (_, page) = get(joule, "/api/v1/stations?limit=100").await;
        let booted = page["items"].as_array().into_iter().flatten().find(|s| s["ocpp"]["chargePointId"] == cp && s["ocpp"]["lastBootAt"].is_string());
        if let Some(station) = booted {
            return station["id"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{cp} did not boot within a minute");
}

async fn start_from_the_app(api: &Joule, driver: &reqwest::Client, station: &str) -> Value {
    let (status, start) = send_json(driver.post(api.url("/api/v1/sessions")), &json!({ "stationId": station, "connectorId": "1" })).await;
    assert_eq!((status, &start["status"]), (202, &json!("pending")), "{start}");
    let path = format!("/api/v1/sessions/starts/{}", start["id"].as_str().unwrap());
    let mut seen = Value::Null;
    for _ in 0..300 {
        seen = get_as(driver, api, &path).await.1;
        if seen["status"] != "pending" && seen["status"] != "accepted" {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the start stayed {seen}");
}

#[tokio::test]
async fn a_driver_starts_and_stops_charging_from_the_app_and_is_invoiced() {
    let state = State::new();
    let replica_state = state.replica();
    let a = Joule::with("spin.toml").state(&state).ready().await;
    // Against the real services the driver's requests go to a second replica, B.
    let b = if real_backends() {
        // One development issuer, so each replica takes the other's tokens.
        std::fs::create_dir_all(replica_state.path().join("joule")).unwrap();
        std::fs::copy(state.path().join("joule/dev-issuer.pem"), replica_state.path().join("joule/dev-issuer.pem")).expect("share the dev issuer");
        Some(Joule::with("spin.toml").state(&replica_state).ready().await)
    } else {
        None
    };
    let api = b.as_ref().unwrap_or(&a);
    for (protocol, prefix, tag, driver) in [(OCPP16, "REM16", "5EA0A0A1", "remote-ada"), (OCPP201, "REM201", "5EB0B0B1", "remote-bob")] {
        let charger = remote_charger(&a, protocol, prefix, tag, driver, &[]);
        let station = booted_station(&a, &format!("{prefix}-0001")).await;
        let http = api.driver(driver);
        let start = start_from_the_app(api, &http, &station).await;
        assert_eq!(start["status"], "started", "{protocol}: {start}");
        let session_path = format!("/api/v1/sessions/{}", start["sessionId"].as_str().unwrap());
        let (_, session) = get_as(&http, api, &session_path).await;
        assert_eq!((&session["status"], &session["driverId"]), (&json!("active"), &json!(driver)), "{session}");
        tokio::time::sleep(Duration::from_secs(2)).await;

        let (status, stopping) = send_json(http.post(api.url(&format!("{session_path}/stop"))), &json!({})).await;
        assert_eq!((status, &stopping["remoteStop"]["status"]), (202, &json!("pending")), "{stopping}");
        eventually(&format!("{protocol}: the charge point stopped the session"), || async {
            get_as(&http, api, &session_path).await.1["status"] == "completed"
        })
        .await;
        let (_, stopped) = get_as(&http, api, &session_path).await;
        assert_eq!(stopped["remoteStop"]["status"], "accepted", "{stopped}");
        assert!(stopped["energyWh"].as_i64().unwrap() > 0, "{stopped}");
        let invoices = format!("/api/v1/invoices?sessionId={}", start["sessionId"].as_str().unwrap());
        eventually(&format!("{protocol}: the session's invoice"), || async {
            get_as(&http, api, &invoices).await.1["items"].as_array().is_some_and(|items| items.len() == 1)
        })
        .await;
        let output = tokio::time::timeout(Duration::from_secs(30), charger.wait_with_output()).await.expect("the simulator ended").unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(report.contains("sessions: 1 started, 0 refused, 1 stopped"), "{protocol}:\n{report}");
    }
}

#[tokio::test]
async fn a_start_the_charge_point_cannot_take_is_a_failed_start() {
    let joule = Joule::platform().await;
    let http = joule.driver("remote-cy");
    // A charge point that was never connected: its station exists, the driver has a tag.
    let tariff = joule_tests::ev::create_tariff(&joule).await;
    let station = joule_tests::ev::charge_point_station(&joule, &tariff, "REM-OFF").await;
    let (status, _) = send_json(http.post(joule.url("/api/v1/me/tokens")), &json!({ "type": "RFID", "uid": "5EC0C0C1" })).await;
    assert_eq!(status, 201);
    let start = async {
        for _ in 0..100 {
            let (status, start) = send_json(http.post(joule.url("/api/v1/sessions")), &json!({ "stationId": station, "connectorId": "1" })).await;
            if status != 409 {
                return (status, start);
            }
            // The sessions' copy of the tag is on its way.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the driver's tag never reached the sessions");
    };
    let (status, start) = start.await;
    assert_eq!(status, 202, "{start}");
    let path = format!("/api/v1/sessions/starts/{}", start["id"].as_str().unwrap());
    eventually("the start failed", || async { get_as(&http, &joule, &path).await.1["status"] == "failed" }).await;
    let (_, failed) = get_as(&http, &joule, &path).await;
    assert_eq!((&failed["reason"], &failed["sessionId"]), (&json!("not-connected"), &Value::Null), "{failed}");
    // Another driver cannot see it; the fields the charge point reports may not be given.
    assert_eq!(get_as(&joule.driver("remote-dee"), &joule, &path).await.0, 404);
    let given = json!({ "stationId": station, "connectorId": "1", "meterStartWh": 5 });
    let (status, refused) = send_json(http.post(joule.url("/api/v1/sessions")), &given).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["details"]["meterStartWh"].is_string(), "{refused}");
}

#[tokio::test]
async fn a_booking_is_held_at_the_charge_point_from_its_start_and_let_go_when_cancelled() {
    let joule = Joule::platform().await;
    let driver = "hold-eve";
    let http = joule.driver(driver);
    let charger = remote_charger(&joule, OCPP201, "HOLD201", "5ED0D0D1", driver, &["--duration", "15"]);
    let station = booted_station(&joule, "HOLD201-0001").await;
    let starts = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    let booking = json!({
        "stationId": station, "connectorId": "1",
        "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::TimeDelta::minutes(30)).to_rfc3339(),
    });
    let (status, booked) = send_json(http.post(joule.url("/api/v1/reservations")), &booking).await;
    assert_eq!((status, &booked["chargePointHold"]), (201, &Value::Null), "{booked}");
    let path = format!("/api/v1/reservations/{}", booked["id"].as_str().unwrap());
    eventually("the charge point holds the booking", || async {
        get_as(&http, &joule, &path).await.1["chargePointHold"]["status"] == "accepted"
    })
    .await;
    let (status, cancelled) = read_delete(&http, &joule, &path).await;
    assert_eq!(status, 200, "{cancelled}");
    eventually("the charge point let the booking go", || async {
        get_as(&http, &joule, &path).await.1["chargePointHold"]["status"] == "cancelled"
    })
    .await;
    let (_, held) = get_as(&http, &joule, &path).await;
    assert!(held["chargePointHold"]["ocppReservationId"].as_i64().is_some(), "{held}");
    let output = tokio::time::timeout(Duration::from_secs(30), charger.wait_with_output()).await.expect("the simulator ended").unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("1 ReserveNow, 1 CancelReservation"), "the charge point's own record:\n{report}");
}

async fn read_delete(http: &reqwest::Client, joule: &Joule, path: &str) -> (u16, Value) {
    joule_tests::read(http.delete(joule.url(path)).send().await.expect("DELETE")).await
}

#[tokio::test]
async fn a_start_naming_the_charge_points_reservation_takes_up_the_booking() {
    let joule = Joule::platform().await;
    let (driver, tag) = ("hold-fay", "5EF0F0F1");
    let http = joule.driver(driver);
    let tariff = joule_tests::ev::create_tariff(&joule).await;
    let station = joule_tests::ev::charge_point_station(&joule, &tariff, "HOLD16").await;
    let (status, _) = send_json(http.post(joule.url("/api/v1/me/tokens")), &json!({ "type": "RFID", "uid": tag })).await;
    assert_eq!(status, 201);
    let charge_point = ChargePoint::new("HOLD16", OCPP_PASSWORD, OCPP16);
    let held = charge_point.spawn(&joule.url(""), "hold", &["--hold", "6", "--answer", "accept"]);
    let starts = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    let booking = json!({
        "stationId": station, "connectorId": "1",
        "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::TimeDelta::minutes(30)).to_rfc3339(),
    });
    let (status, booked) = send_json(http.post(joule.url("/api/v1/reservations")), &booking).await;
    assert_eq!(status, 201, "{booked}");
    let path = format!("/api/v1/reservations/{}", booked["id"].as_str().unwrap());
    eventually("the charge point holds the booking", || async {
        get_as(&http, &joule, &path).await.1["chargePointHold"]["status"] == "accepted"
    })
    .await;
    let number = get_as(&http, &joule, &path).await.1["chargePointHold"]["ocppReservationId"].as_i64().unwrap();
    let reserve_now = joule_tests::charge_point::finish(held).await;
    let received: Vec<&Value> = reserve_now.iter().filter(|s| s.step == "received").map(|s| &s.raw["payload"]).collect();
    assert_eq!(received.len(), 1, "{reserve_now:#?}");
    assert_eq!((&received[0]["reservationId"], &received[0]["idTag"], &received[0]["connectorId"]), (&json!(number), &json!(tag), &json!(1)));

    let start = json!({ "action": "StartTransaction", "payload": {
        "connectorId": 1, "idTag": tag, "meterStart": 1000, "timestamp": chrono::Utc::now().to_rfc3339(), "reservationId": number,
    } });
    let steps = charge_point.run_with(&joule.url(""), "plan", &["--plan", &Value::Array(vec![start]).to_string()]).await;
    assert_eq!(steps.last().unwrap().response["idTagInfo"]["status"], "Accepted", "{steps:#?}");
    let (_, booking) = get_as(&http, &joule, &path).await;
    assert_eq!(booking["status"], "fulfilled", "{booking}");
    let (_, session) = get_as(&http, &joule, &format!("/api/v1/sessions/{}", booking["sessionId"].as_str().unwrap())).await;
    assert_eq!((&session["reservationId"], &session["chargePointId"]), (&booked["id"], &json!("HOLD16")), "{session}");
}

#[tokio::test]
async fn an_operator_takes_a_connector_out_of_service_and_asks_for_statuses() {
    let joule = Joule::platform().await;
    let tariff = joule_tests::ev::create_tariff(&joule).await;
    let station = joule_tests::ev::charge_point_station(&joule, &tariff, "AVAIL16").await;
    let charge_point = ChargePoint::new("AVAIL16", OCPP_PASSWORD, OCPP16);
    let held = charge_point.spawn(&joule.url(""), "hold", &["--hold", "4", "--answer", "accept"]);
    booted_station(&joule, "AVAIL16").await;
    let status = |status: &str| json!({ "status": status });
    let connector = joule.url(&format!("/api/v1/stations/{station}/connectors/1/status"));
    for body in [status("Unavailable"), status("Available")] {
        let (code, answer) = send_json(joule.operator().put(&connector), &body).await;
        assert_eq!(code, 200, "{answer}");
    }
    let (code, refresh) = send_json(joule.operator().post(joule.url(&format!("/api/v1/stations/{station}/status-refresh"))), &json!({})).await;
    assert_eq!(code, 202, "{refresh}");
    let steps = joule_tests::charge_point::finish(held).await;
    let received: Vec<(&str, &Value)> =
        steps.iter().filter(|s| s.step == "received").map(|s| (s.raw["action"].as_str().unwrap(), &s.raw["payload"])).collect();
    assert_eq!(
        received,
        [
            ("ChangeAvailability", &json!({ "connectorId": 1, "type": "Inoperative" })),
            ("ChangeAvailability", &json!({ "connectorId": 1, "type": "Operative" })),
            ("TriggerMessage", &json!({ "requestedMessage": "StatusNotification" })),
        ],
        "{steps:#?}"
    );
}

#[tokio::test]
async fn a_start_the_charge_point_refuses_or_never_answers_is_a_failed_start() {
    let joule = Joule::with("spin.toml").env("JOULE_OCPP_CALL_TIMEOUT", "2s").ready().await;
    let (driver, tag) = ("remote-gus", "5E90909A");
    let http = joule.driver(driver);
    let tariff = joule_tests::ev::create_tariff(&joule).await;
    let station = joule_tests::ev::charge_point_station(&joule, &tariff, "REM-ANS").await;
    let (status, _) = send_json(http.post(joule.url("/api/v1/me/tokens")), &json!({ "type": "RFID", "uid": tag })).await;
    assert_eq!(status, 201);
    let charge_point = ChargePoint::new("REM-ANS", OCPP_PASSWORD, OCPP16);
    for (answer, reason) in [("error", "call-error: GenericError refused by the test charge point"), ("silent", "timeout")] {
        let station_path = format!("/api/v1/stations/{station}");
        let booted_before = get(&joule, &station_path).await.1["ocpp"]["lastBootAt"].clone();
        let held = charge_point.spawn(&joule.url(""), "hold", &["--hold", "5", "--answer", answer]);
        eventually("this connection's boot", || async {
            let booted = get(&joule, &station_path).await.1["ocpp"]["lastBootAt"].clone();
            booted.is_string() && booted != booted_before
        })
        .await;
        let start = json!({ "stationId": station, "connectorId": "1" });
        let mut posted = Value::Null;
        for _ in 0..100 {
            let (status, body) = send_json(http.post(joule.url("/api/v1/sessions")), &start).await;
            posted = body;
            if status == 202 {
                break;
            }
            // The sessions' copy of the tag is on its way.
            assert_eq!(status, 409, "{posted}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let path = format!("/api/v1/sessions/starts/{}", posted["id"].as_str().expect("a pending start"));
        eventually(&format!("the start failed ({answer})"), || async { get_as(&http, &joule, &path).await.1["status"] == "failed" }).await;
        assert_eq!(get_as(&http, &joule, &path).await.1["reason"], reason);
        let steps = joule_tests::charge_point::finish(held).await;
        assert_eq!(steps.iter().filter(|s| s.step == "received").count(), 1, "{steps:#?}");
    }
}
