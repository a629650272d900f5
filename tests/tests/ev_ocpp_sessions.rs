//! Sessions that real charge points (PyPI `ocpp`, which checks every message against the
//! official schemas) start, meter and stop over OCPP 1.6J and 2.0.1, through the EV
//! platform's own spin.toml: the token names the driver, billing invoices the stop, and the
//! invoice is DOMAIN.md's worked example. Reservations hold connectors against other
//! drivers' tokens, and a charger that reconnects with queued messages makes one session.

use joule_tests::charge_point::{ChargePoint, OCPP16, OCPP201, Step};
use joule_tests::ev::{self, Monday, OCPP_PASSWORD, book, booking, charge_point_station, get};
use joule_tests::{Joule, send_json};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

const ADA: &str = "ada";
const ADA_TAG: &str = "04A2B3C4";

fn call(action: &str, payload: Value) -> Value {
    json!({ "action": action, "payload": payload })
}

/// Runs `plan` on a charge point and returns its steps, each of which must have succeeded.
async fn run_plan(joule: &Joule, id: &str, protocol: &'static str, plan: &[Value]) -> Vec<Step> {
    let plan = Value::Array(plan.to_vec()).to_string();
    let steps = ChargePoint::new(id, OCPP_PASSWORD, protocol).run_with(&joule.url(""), "plan", &["--plan", &plan]).await;
    assert!(steps.iter().all(|s| s.ok), "{protocol} {id}: {steps:#?}");
    steps
}

fn answers<'a>(steps: &'a [Step], action: &str) -> Vec<&'a Value> {
    steps.iter().filter(|s| s.step == action).map(|s| &s.response).collect()
}

/// A driver with an active RFID token.
async fn driver_with_tag(joule: &Joule, driver: &str, uid: &str) {
    let (status, body) = send_json(joule.driver(driver).post(joule.url("/api/v1/me/tokens")), &json!({ "type": "RFID", "uid": uid })).await;
    assert_eq!(status, 201, "{body}");
}

fn status16(status: &str, at: &str) -> Value {
    call("StatusNotification", json!({ "connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": at }))
}

fn meter16(transaction_id: Value, at: &str, sampled: Value) -> Value {
    call(
        "MeterValues",
        json!({ "connectorId": 1, "transactionId": transaction_id, "meterValue": [{ "timestamp": at, "sampledValue": sampled }] }),
    )
}

fn start16(tag: &str, meter_start: i64, at: &str) -> Value {
    call("StartTransaction", json!({ "connectorId": 1, "idTag": tag, "meterStart": meter_start, "timestamp": at }))
}

fn stop16(transaction_id: Value, meter_stop: i64, at: &str) -> Value {
    call(
        "StopTransaction",
        json!({ "transactionId": transaction_id, "idTag": ADA_TAG, "meterStop": meter_stop, "timestamp": at, "reason": "EVDisconnected" }),
    )
}

fn boot16() -> Value {
    call("BootNotification", json!({ "chargePointVendor": "Joule Test", "chargePointModel": "CP-1" }))
}

/// A session's start, where charging ended, and unplugging.
fn times(session: &Value) -> [DateTime<Utc>; 3] {
    ["startedAt", "stoppedAt", "unpluggedAt"].map(|key| {
        session[key].as_str().and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("no {key} in {session}"))
    })
}

/// The driver's only session, which must have been completed.
async fn completed_session(joule: &Joule, driver: &str) -> Value {
    let (status, sessions) = get(joule, &format!("/api/v1/sessions?driverId={driver}")).await;
    assert_eq!(status, 200, "{sessions}");
    let items = sessions["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one session: {sessions}");
    assert_eq!(items[0]["status"], "completed", "{sessions}");
    items[0].clone()
}

#[tokio::test]
async fn a_1_6_charge_point_charges_a_driver_and_the_invoice_is_the_worked_example() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    driver_with_tag(&joule, ADA, ADA_TAG).await;
    let tariff = ev::create_tariff(&joule).await;
    let station = charge_point_station(&joule, &tariff, "EV-TX-16").await;

    let energy = |wh: &str| json!([{ "value": wh, "unit": "Wh", "measurand": "Energy.Active.Import.Register", "context": "Sample.Periodic" }]);
    let plan = [
        boot16(),
        call("Heartbeat", json!({})),
        status16("Available", &monday.text("16:25")),
        call("Authorize", json!({ "idTag": ADA_TAG })),
        status16("Preparing", &monday.text("16:29")),
        start16(ADA_TAG, 1000, &monday.text("16:30")),
        status16("Charging", &monday.text("16:30")),
        // 5.5 kWh by 17:00, in kWh with the power beside it; 7.3 more by 17:40, in Wh.
        meter16(
            json!("$transactionId"),
            &monday.text("17:00"),
            json!([
                { "value": "6.5", "unit": "kWh", "measurand": "Energy.Active.Import.Register", "context": "Sample.Periodic" },
                { "value": "11000", "unit": "W", "measurand": "Power.Active.Import", "context": "Sample.Periodic" }
            ]),
        ),
        meter16(json!("$transactionId"), &monday.text("17:40"), energy("13800")),
        status16("SuspendedEV", &monday.text("17:40")),
        stop16(json!("$transactionId"), 13800, &monday.text("18:02")),
        status16("Finishing", &monday.text("18:02")),
        status16("Available", &monday.text("18:03")),
    ];
    let steps = run_plan(&joule, "EV-TX-16", OCPP16, &plan).await;
    let started = answers(&steps, "StartTransaction")[0];
    assert_eq!(started["idTagInfo"]["status"], "Accepted", "{started}");
    let transaction_id = started["transactionId"].as_i64().expect("1.6 transaction ids are integers");
    assert_eq!(answers(&steps, "StopTransaction")[0]["idTagInfo"]["status"], "Accepted");

    let invoices = ev::invoices_of(&joule, ADA, 1).await;
    assert_eq!(invoices.len(), 1, "{invoices:#?}");
    ev::assert_worked_example_invoice(&invoices[0]);
    let session = completed_session(&joule, ADA).await;
    assert_eq!(invoices[0]["sessionId"], session["id"]);
    assert_eq!((&session["stationId"], &session["connectorId"]), (&json!(station), &json!("1")));
    assert_eq!((&session["chargePointId"], &session["transactionId"]), (&json!("EV-TX-16"), &json!(transaction_id.to_string())));
    assert_eq!((&session["meterStartWh"], &session["energyWh"]), (&json!(1000), &json!(12800)));
    assert_eq!(times(&session), [monday.at("16:30"), monday.at("17:40"), monday.at("18:02")], "charging ended where the car stopped drawing");
}

#[tokio::test]
async fn a_2_0_1_station_charges_a_driver_and_the_invoice_is_the_worked_example() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    driver_with_tag(&joule, ADA, ADA_TAG).await;
    let tariff = ev::create_tariff(&joule).await;
    let station = charge_point_station(&joule, &tariff, "EV-TX-201").await;

    let token = json!({ "idToken": ADA_TAG, "type": "ISO14443" });
    let energy = |at: &str, value: Value, unit: &str, context: &str| {
        json!([{ "timestamp": at, "sampledValue": [{
            "value": value, "context": context, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": { "unit": unit }
        }] }])
    };
    let event = |event_type: &str, at: &str, seq: u32, trigger: &str, info: Value, extra: Value| {
        let mut payload = json!({ "eventType": event_type, "timestamp": at, "triggerReason": trigger, "seqNo": seq, "transactionInfo": info });
        payload.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        call("TransactionEvent", payload)
    };
    let plan = [
        call("BootNotification", json!({ "chargingStation": { "vendorName": "Joule Test", "model": "CS-1" }, "reason": "PowerUp" })),
        call("StatusNotification", json!({ "timestamp": monday.text("16:25"), "connectorStatus": "Available", "evseId": 1, "connectorId": 1 })),
        call("Authorize", json!({ "idToken": token })),
        event(
            "Started",
            &monday.text("16:30"),
            0,
            "Authorized",
            json!({ "transactionId": "TX-201-A", "chargingState": "Charging" }),
            json!({ "idToken": token, "evse": { "id": 1, "connectorId": 1 },
                    "meterValue": energy(&monday.text("16:30"), json!(1000), "Wh", "Transaction.Begin") }),
        ),
        call("StatusNotification", json!({ "timestamp": monday.text("16:30"), "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1 })),
        event(
            "Updated",
            &monday.text("17:00"),
            1,
            "MeterValuePeriodic",
            json!({ "transactionId": "TX-201-A", "chargingState": "Charging" }),
            json!({ "meterValue": energy(&monday.text("17:00"), json!(6.5), "kWh", "Sample.Periodic") }),
        ),
        // The car is full at 17:40 and stays plugged in: parking from here.
        event(
            "Updated",
            &monday.text("17:40"),
            2,
            "ChargingStateChanged",
            json!({ "transactionId": "TX-201-A", "chargingState": "EVConnected" }),
            json!({ "meterValue": energy(&monday.text("17:40"), json!(13800), "Wh", "Sample.Periodic") }),
        ),
        event(
            "Ended",
            &monday.text("18:02"),
            3,
            "EVDeparted",
            json!({ "transactionId": "TX-201-A", "chargingState": "Idle", "stoppedReason": "EVDisconnected" }),
            json!({ "meterValue": energy(&monday.text("18:02"), json!(13.8), "kWh", "Transaction.End") }),
        ),
        call("StatusNotification", json!({ "timestamp": monday.text("18:02"), "connectorStatus": "Available", "evseId": 1, "connectorId": 1 })),
    ];
    let steps = run_plan(&joule, "EV-TX-201", OCPP201, &plan).await;
    let events = answers(&steps, "TransactionEvent");
    assert_eq!(events[0]["idTokenInfo"]["status"], "Accepted", "{events:?}");

    let invoices = ev::invoices_of(&joule, ADA, 1).await;
    assert_eq!(invoices.len(), 1, "{invoices:#?}");
    ev::assert_worked_example_invoice(&invoices[0]);
    let session = completed_session(&joule, ADA).await;
    assert_eq!((&session["stationId"], &session["transactionId"]), (&json!(station), &json!("TX-201-A")));
    assert_eq!((&session["meterStartWh"], &session["energyWh"]), (&json!(1000), &json!(12800)));
    assert_eq!(times(&session), [monday.at("16:30"), monday.at("17:40"), monday.at("18:02")]);
}

#[tokio::test]
async fn starts_are_refused_for_tokens_that_may_not_charge_and_on_connectors_reserved_for_others() {
    let joule = Joule::platform().await;
    let operator = joule.operator();
    driver_with_tag(&joule, ADA, ADA_TAG).await;
    driver_with_tag(&joule, "bob", "0B0B0B0B").await;
    driver_with_tag(&joule, "eve", "0E0E0E0E").await;
    let block = joule.url("/api/v1/accounts/eve/tokens/0E0E0E0E/status");
    assert_eq!(send_json(operator.put(block), &json!({ "status": "BLOCKED" })).await.0, 200);
    let tariff = ev::create_tariff(&joule).await;
    let station = charge_point_station(&joule, &tariff, "EV-TX-RES").await;

    // Bob holds connector 1 for the next hour.
    let now = chrono::Utc::now();
    let text = |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, reservation) = book(&joule, &booking(&station, "1", "bob", &text(now), &text(now + chrono::TimeDelta::hours(1)))).await;
    assert_eq!(status, 201, "{reservation}");
    // The blocked token's status change travels as an event, as the tokens do.
    joule_tests::eventually("eve's token blocked in the sessions' copy", || async {
        let steps = ChargePoint::new("EV-TX-RES", OCPP_PASSWORD, OCPP16)
            .run_with(&joule.url(""), "plan", &["--plan", &Value::Array(vec![start16("0E0E0E0E", 0, &text(now))]).to_string()])
            .await;
        answers(&steps, "StartTransaction").first().is_some_and(|a| a["idTagInfo"]["status"] == "Blocked")
    })
    .await;

    let at = text(chrono::Utc::now());
    let plan = [
        boot16(),
        start16(ADA_TAG, 500, &at),
        start16("NOBODY01", 500, &at),
        start16("0B0B0B0B", 500, &at),
        start16(ADA_TAG, 500, &text(chrono::Utc::now() + chrono::TimeDelta::seconds(1))),
    ];
    let steps = run_plan(&joule, "EV-TX-RES", OCPP16, &plan).await;
    let statuses: Vec<&Value> = answers(&steps, "StartTransaction").iter().map(|a| &a["idTagInfo"]["status"]).collect();
    assert_eq!(statuses, [&json!("Invalid"), &json!("Invalid"), &json!("Accepted"), &json!("ConcurrentTx")], "{steps:#?}");
    let ids: Vec<i64> = answers(&steps, "StartTransaction").iter().map(|a| a["transactionId"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "every start gets its own transaction id: {ids:?}");

    // Bob's start took up his booking; nobody else got a session.
    let reservation_id = reservation["id"].as_str().unwrap();
    let (_, fulfilled) = get(&joule, &format!("/api/v1/reservations/{reservation_id}")).await;
    assert_eq!(fulfilled["status"], "fulfilled", "{fulfilled}");
    let (_, bobs) = get(&joule, "/api/v1/sessions?driverId=bob").await;
    assert_eq!(bobs["items"].as_array().map(Vec::len), Some(1), "{bobs}");
    assert_eq!(bobs["items"][0]["reservationId"], reservation_id);
    assert_eq!(fulfilled["sessionId"], bobs["items"][0]["id"]);
    for driver in [ADA, "eve"] {
        let (_, none) = get(&joule, &format!("/api/v1/sessions?driverId={driver}")).await;
        assert_eq!(none["items"], json!([]), "{driver}: {none}");
    }
}

#[tokio::test]
async fn a_charger_that_reconnects_with_queued_messages_makes_one_session_and_one_invoice() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    driver_with_tag(&joule, ADA, ADA_TAG).await;
    let tariff = ev::create_tariff(&joule).await;
    charge_point_station(&joule, &tariff, "EV-TX-LOST").await;
    let energy = |wh: &str| json!([{ "value": wh, "measurand": "Energy.Active.Import.Register" }]);

    // Connected: it starts and sends the 17:00 reading; then the connection is gone.
    let first = [boot16(), start16(ADA_TAG, 1000, &monday.text("16:30")), meter16(json!("$transactionId"), &monday.text("17:00"), energy("6500"))];
    let steps = run_plan(&joule, "EV-TX-LOST", OCPP16, &first).await;
    let transaction_id = answers(&steps, "StartTransaction")[0]["transactionId"].clone();

    // Back, it sends what it queued offline: the start again (its answer was lost), both
    // readings (the 17:00 one again), and the stop. The car stopped drawing at 17:40.
    let queued = [
        boot16(),
        start16(ADA_TAG, 1000, &monday.text("16:30")),
        meter16(transaction_id.clone(), &monday.text("17:00"), energy("6500")),
        meter16(transaction_id.clone(), &monday.text("17:40"), energy("13800")),
        stop16(transaction_id.clone(), 13800, &monday.text("18:02")),
    ];
    let steps = run_plan(&joule, "EV-TX-LOST", OCPP16, &queued).await;
    assert_eq!(answers(&steps, "StartTransaction")[0]["transactionId"], transaction_id, "the same transaction");
    assert_eq!(answers(&steps, "StartTransaction")[0]["idTagInfo"]["status"], "Accepted");
    // Once more, as if the stop's answer had been lost too.
    let again = [boot16(), stop16(transaction_id.clone(), 13800, &monday.text("18:02"))];
    run_plan(&joule, "EV-TX-LOST", OCPP16, &again).await;

    let invoices = ev::invoices_of(&joule, ADA, 1).await;
    // Anything billed twice would have come by now: the first came through the same queue.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let invoices_after = ev::invoices_of(&joule, ADA, 1).await;
    assert_eq!((invoices.len(), invoices_after.len()), (1, 1), "{invoices_after:#?}");
    ev::assert_worked_example_invoice(&invoices_after[0]);
    let session = completed_session(&joule, ADA).await;
    assert_eq!(session["transactionId"], json!(transaction_id.to_string()));
    assert_eq!(times(&session), [monday.at("16:30"), monday.at("17:40"), monday.at("18:02")]);
}

#[tokio::test]
async fn a_1_6_status_that_the_car_stopped_drawing_makes_the_rest_parking() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    driver_with_tag(&joule, ADA, ADA_TAG).await;
    let tariff = ev::create_tariff(&joule).await;
    charge_point_station(&joule, &tariff, "EV-TX-PARK").await;

    // No reading at 17:40: only the connector's SuspendedEV says charging ended there.
    let energy = json!([{ "value": "6500", "measurand": "Energy.Active.Import.Register" }]);
    let charging = [
        boot16(),
        start16(ADA_TAG, 1000, &monday.text("16:30")),
        status16("Charging", &monday.text("16:30")),
        meter16(json!("$transactionId"), &monday.text("17:00"), energy),
        status16("SuspendedEV", &monday.text("17:40")),
    ];
    let steps = run_plan(&joule, "EV-TX-PARK", OCPP16, &charging).await;
    let transaction_id = answers(&steps, "StartTransaction")[0]["transactionId"].clone();
    // The status reaches sessions as stations' event; the session shows it once it has.
    let sessions = format!("/api/v1/sessions?driverId={ADA}");
    joule_tests::eventually("the session to know charging ended", || async {
        let (_, page) = get(&joule, &sessions).await;
        page["items"][0]["chargingEndedAt"].as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok()) == Some(monday.at("17:40"))
    })
    .await;
    let (_, page) = get(&joule, &sessions).await;
    assert_eq!(page["items"][0]["status"], "active", "{page}");

    run_plan(&joule, "EV-TX-PARK", OCPP16, &[boot16(), stop16(transaction_id, 13800, &monday.text("18:02"))]).await;
    let invoices = ev::invoices_of(&joule, ADA, 1).await;
    ev::assert_worked_example_invoice(&invoices[0]);
    let session = completed_session(&joule, ADA).await;
    assert_eq!(times(&session), [monday.at("16:30"), monday.at("17:40"), monday.at("18:02")]);
}

#[tokio::test]
async fn a_charge_point_reporting_what_no_invoice_can_price_still_gets_its_session_invoiced() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    driver_with_tag(&joule, ADA, ADA_TAG).await;
    let tariff = ev::create_tariff(&joule).await;
    charge_point_station(&joule, &tariff, "EV-TX-ODD").await;
    let far = (monday.at("16:30") + chrono::TimeDelta::days(60)).to_rfc3339();
    let energy = |wh: &str| json!([{ "value": wh, "measurand": "Energy.Active.Import.Register" }]);
    let plan = [
        boot16(),
        start16(ADA_TAG, 1000, &monday.text("16:30")),
        meter16(json!("$transactionId"), &monday.text("17:00"), energy("6500")),
        // A register that went backwards, one that leapt by a terawatt-hour, one two months on;
        // a stop 2 GWh on (1.6 meters count in i32 Wh).
        meter16(json!("$transactionId"), &monday.text("17:10"), energy("10")),
        meter16(json!("$transactionId"), &monday.text("17:20"), energy("1000000000000000")),
        meter16(json!("$transactionId"), &far, energy("7000")),
        stop16(json!("$transactionId"), 2_000_000_000, &far),
    ];
    let steps = run_plan(&joule, "EV-TX-ODD", OCPP16, &plan).await;
    assert!(steps.iter().all(|s| s.ok), "every message is answered: {steps:#?}");
    let invoices = ev::invoices_of(&joule, ADA, 1).await;
    assert_eq!(invoices.len(), 1, "{invoices:#?}");
    let session = completed_session(&joule, ADA).await;
    assert_eq!(session["energyWh"], 5500, "the stop is the last reading it could price: {session}");
    let [started, _, unplugged] = times(&session);
    assert_eq!(unplugged - started, chrono::TimeDelta::days(31), "at most the longest session: {session}");
}
