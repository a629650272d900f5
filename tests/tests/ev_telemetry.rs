//! Live telemetry: real charge points (PyPI `ocpp`, which checks every message against the
//! official schemas) charge and beat, and `GET /api/v1/telemetry/stations/{id}` shows each
//! connector's power and energy within a second of the meter value, and the charge point
//! offline three heartbeat intervals after it fell silent, with `charger.offline.v1` and
//! `charger.online.v1` published on time, as a queue of the test's own bound to the events
//! exchange sees them.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt as _;
use joule_tests::charge_point::{ChargePoint, OCPP16, OCPP201, ocpp_url, python};
use joule_tests::ev::{self, OCPP_PASSWORD, charge_point_station, get};
use joule_tests::{Joule, State, client, eventually, read, repo_root, send_json};
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use serde_json::{Value, json};
use sqlx::{ConnectOptions as _, Row as _};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

/// How soon a meter value must show in the live view.
const LIVE_WITHIN: Duration = Duration::from_secs(1);

fn call(action: &str, payload: Value) -> Value {
    json!({ "action": action, "payload": payload })
}

fn sleep(seconds: f64) -> Value {
    json!({ "sleep": seconds })
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("not a time: {value}"))
}

// --- the charge point, step by step --------------------------------------------------------

/// A charge point running a plan (`tests/ocpp/charge_point.py --scenario plan`), whose steps
/// are read as it takes them.
struct Running {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    steps: Vec<Value>,
}

impl Running {
    fn start(joule: &Joule, id: &str, protocol: &'static str, plan: &[Value]) -> Self {
        let plan = Value::Array(plan.to_vec()).to_string();
        let mut child = ChargePoint::new(id, OCPP_PASSWORD, protocol).spawn(&joule.url(""), "plan", &["--plan", &plan]);
        let stdout = child.stdout.take().expect("the script's stdout is piped");
        Self { child, lines: BufReader::new(stdout).lines(), steps: Vec::new() }
    }

    /// Reads steps up to the next `action`, each of which must have succeeded; returns its
    /// answer and when it was read, just after the platform committed what the CALL did.
    async fn answered(&mut self, action: &str) -> (Value, Instant) {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("no {action} within a minute; steps so far: {:#?}", self.steps))
                .expect("read the charge point's output");
            let read_at = Instant::now();
            let Some(line) = line else {
                let stderr = self.stderr().await;
                panic!("the charge point ended before {action}: {:#?}\nstderr:\n{stderr}", self.steps)
            };
            let step: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a step: {line}"));
            self.steps.push(step.clone());
            assert_eq!(step["ok"], true, "every step succeeds: {:#?}", self.steps);
            if step["step"] == action {
                return (step["response"].clone(), read_at);
            }
        }
    }

    /// What the script wrote on stderr, once it has ended.
    async fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), stderr.read_to_string(&mut text)).await;
        }
        text
    }

    /// Waits for the plan's end; every step left must succeed too.
    async fn finish(mut self) {
        while let Some(line) = self.lines.next_line().await.expect("read the charge point's output") {
            let step: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a step: {line}"));
            assert_eq!(step["ok"], true, "every step succeeds: {step}");
        }
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await.expect("the plan ended").unwrap();
        assert!(status.success(), "the charge point script failed: {status}");
    }
}

// --- the live view -------------------------------------------------------------------------

async fn live(joule: &Joule, station: &str) -> (u16, Value) {
    // The live view is as public as the connectors' status: no token.
    read(client().get(joule.url(&format!("/api/v1/telemetry/stations/{station}"))).send().await.expect("GET")).await
}

/// Polls the live view until `check` holds of it, which must be within `within` of `since`;
/// returns the view and when it held.
async fn live_until(
    joule: &Joule,
    station: &str,
    since: Instant,
    within: Duration,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> (Value, Instant) {
    loop {
        let (status, view) = live(joule, station).await;
        let now = Instant::now();
        if status == 200 && check(&view) {
            return (view, now);
        }
        assert!(now - since < within, "{what}: not within {within:?} ({status}) {view}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn connector<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["connectors"]
        .as_array()
        .and_then(|connectors| connectors.iter().find(|c| c["connectorId"] == id))
        .unwrap_or_else(|| panic!("no connector {id} in {view}"))
}

/// Whether connector 1 shows `power_w` and `energy_wh` of a session going.
fn charging(view: &Value, power_w: Value, energy_wh: i64) -> bool {
    let line = connector(view, "1");
    line["powerW"] == power_w && line["energyWh"] == energy_wh && line["sessionId"].is_string() && line["status"] == "Charging"
}

/// The driver's only session.
async fn session_of(joule: &Joule, driver: &str) -> Value {
    let (status, sessions) = get(joule, &format!("/api/v1/sessions?driverId={driver}")).await;
    assert_eq!(status, 200, "{sessions}");
    assert_eq!(sessions["items"].as_array().map(Vec::len), Some(1), "{sessions}");
    sessions["items"][0].clone()
}

async fn driver_with_tag(joule: &Joule, driver: &str, uid: &str) {
    let (status, body) = send_json(joule.driver(driver).post(joule.url("/api/v1/me/tokens")), &json!({ "type": "RFID", "uid": uid })).await;
    assert_eq!(status, 201, "{body}");
}

// --- events as the broker routes them --------------------------------------------------------

/// An event and when the broker routed it to the watching queue.
#[derive(Debug, Clone)]
struct Routed {
    at: DateTime<Utc>,
    event: Value,
}

/// A queue of the test's own, bound to the events exchange for some event types.
enum Watch {
    /// RabbitMQ: a server-named exclusive queue, consumed as messages arrive while its
    /// channel and connection stay open.
    Rabbit { routed: Arc<Mutex<Vec<Routed>>>, _open: Box<(lapin::Channel, lapin::Connection)> },
    /// The embedded broker: a queue in its store that no consumer takes from.
    Embedded { store: PathBuf },
}

const WATCH_QUEUE: &str = "ev-telemetry.watch";

impl Watch {
    async fn rabbit(url: &str, exchange: &str, patterns: &[&str]) -> Self {
        let connection = lapin::Connection::connect(url, lapin::ConnectionProperties::default()).await.expect("connect to RabbitMQ");
        let channel = connection.create_channel().await.expect("channel");
        let options = QueueDeclareOptions { exclusive: true, auto_delete: true, ..QueueDeclareOptions::default() };
        let queue = channel.queue_declare("".into(), options, FieldTable::default()).await.expect("declare the watch queue");
        for pattern in patterns {
            channel
                .queue_bind(queue.name().clone(), exchange.into(), (*pattern).into(), QueueBindOptions::default(), FieldTable::default())
                .await
                .expect("bind the watch queue");
        }
        let options = BasicConsumeOptions { no_ack: true, ..BasicConsumeOptions::default() };
        let mut consumer =
            channel.basic_consume(queue.name().clone(), "ev-telemetry-watch".into(), options, FieldTable::default()).await.expect("consume");
        let routed = Arc::new(Mutex::new(Vec::new()));
        let sink = routed.clone();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = consumer.next().await {
                let at = Utc::now();
                if let Ok(event) = serde_json::from_slice(&delivery.data) {
                    sink.lock().unwrap().push(Routed { at, event });
                }
            }
        });
        Self::Rabbit { routed, _open: Box::new((channel, connection)) }
    }

    /// Binds the watch queue in the embedded broker's store, which no host may have open:
    /// the broker reads its bindings when it opens.
    async fn embedded(state: &State, patterns: &[&str]) -> Self {
        let store = state.path().join("joule/platform.db");
        let mut connection = sqlite(&store).await;
        for pattern in patterns {
            sqlx::query("INSERT INTO broker_bindings (queue, pattern) VALUES ($1, $2)")
                .bind(WATCH_QUEUE)
                .bind(pattern)
                .execute(&mut connection)
                .await
                .expect("bind the watch queue");
        }
        Self::Embedded { store }
    }

    /// The events of `event_type` routed so far, in order.
    async fn events(&self, event_type: &str) -> Vec<Routed> {
        let routed = match self {
            Self::Rabbit { routed, .. } => routed.lock().unwrap().clone(),
            Self::Embedded { store } => {
                let mut connection = sqlite(store).await;
                sqlx::query("SELECT body, available_at FROM broker_messages WHERE queue = $1 ORDER BY id")
                    .bind(WATCH_QUEUE)
                    .fetch_all(&mut connection)
                    .await
                    .expect("read the watch queue")
                    .iter()
                    .map(|row| Routed {
                        at: DateTime::from_timestamp_millis(row.get("available_at")).expect("a time"),
                        event: serde_json::from_slice(&row.get::<Vec<u8>, _>("body")).expect("an envelope"),
                    })
                    .collect()
            }
        };
        routed.into_iter().filter(|r| r.event["type"] == event_type).collect()
    }

    /// The one event of `event_type`, once it was routed.
    async fn one(&self, event_type: &str) -> Routed {
        eventually(event_type, || async { !self.events(event_type).await.is_empty() }).await;
        let mut events = self.events(event_type).await;
        assert_eq!(events.len(), 1, "{events:#?}");
        events.remove(0)
    }
}

async fn sqlite(path: &std::path::Path) -> sqlx::SqliteConnection {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("open the embedded broker's store")
}

/// The EV platform with one-second heartbeat intervals, and a watch on `patterns`.
async fn watched_platform(state: &State, patterns: &[&str]) -> (Joule, Watch) {
    let start = || Joule::with("spin.toml").state(state).env("JOULE_VARIABLE_OCPP_HEARTBEAT_INTERVAL_SECONDS", "1");
    if let Some(services) = state.services() {
        let joule = start().ready().await;
        return (joule, Watch::rabbit(&services.amqp_url, &state.exchange(), patterns).await);
    }
    // A first run makes the embedded store; the second routes to the queue bound in between.
    start().ready().await.stop().await;
    let watch = Watch::embedded(state, patterns).await;
    (start().ready().await, watch)
}

// --- (a) meter values, live within a second ------------------------------------------------

/// 1.6: energy in kWh then in Wh, power in W then in kW; the session starts at 1000 Wh.
fn charging_plan_16(tag: &str) -> Vec<Value> {
    let meter = |energy: Value, power: Value| {
        call(
            "MeterValues",
            json!({ "connectorId": 1, "transactionId": "$transactionId", "meterValue": [{ "timestamp": "$now", "sampledValue": [energy, power] }] }),
        )
    };
    let status = |status: &str| call("StatusNotification", json!({ "connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": "$now" }));
    vec![
        call("BootNotification", json!({ "chargePointVendor": "Joule Test", "chargePointModel": "CP-1" })),
        status("Available"),
        call("StartTransaction", json!({ "connectorId": 1, "idTag": tag, "meterStart": 1000, "timestamp": "$now" })),
        status("Charging"),
        meter(
            json!({ "value": "3.5", "unit": "kWh", "measurand": "Energy.Active.Import.Register" }),
            json!({ "value": "7400", "unit": "W", "measurand": "Power.Active.Import" }),
        ),
        sleep(1.5),
        meter(
            json!({ "value": "4200", "unit": "Wh", "measurand": "Energy.Active.Import.Register" }),
            json!({ "value": "6.8", "unit": "kW", "measurand": "Power.Active.Import" }),
        ),
        sleep(1.5),
        call(
            "StopTransaction",
            json!({ "transactionId": "$transactionId", "idTag": tag, "meterStop": 4300, "timestamp": "$now", "reason": "EVDisconnected" }),
        ),
        status("Available"),
    ]
}

/// 2.0.1: the same session as TransactionEvents, power in W with a multiplier.
fn charging_plan_201(tag: &str) -> Vec<Value> {
    let token = json!({ "idToken": tag, "type": "ISO14443" });
    let energy = |value: Value, unit: &str| json!({ "value": value, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": { "unit": unit } });
    let power = |value: Value, multiplier: i64| {
        json!({ "value": value, "measurand": "Power.Active.Import", "unitOfMeasure": { "unit": "W", "multiplier": multiplier } })
    };
    let event = |event_type: &str, seq: u32, trigger: &str, state: &str, samples: Value, extra: Value| {
        let mut payload = json!({
            "eventType": event_type, "timestamp": "$now", "triggerReason": trigger, "seqNo": seq,
            "transactionInfo": { "transactionId": "TEL-TX-201", "chargingState": state },
            "meterValue": [{ "timestamp": "$now", "sampledValue": samples }],
        });
        payload.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        call("TransactionEvent", payload)
    };
    let status = |status: &str| call("StatusNotification", json!({ "timestamp": "$now", "connectorStatus": status, "evseId": 1, "connectorId": 1 }));
    vec![
        call("BootNotification", json!({ "chargingStation": { "vendorName": "Joule Test", "model": "CS-1" }, "reason": "PowerUp" })),
        status("Available"),
        event("Started", 0, "Authorized", "Charging", json!([energy(json!(1000), "Wh")]), json!({ "idToken": token, "evse": { "id": 1, "connectorId": 1 } })),
        status("Occupied"),
        event("Updated", 1, "MeterValuePeriodic", "Charging", json!([energy(json!(3.5), "kWh"), power(json!(7.4), 3)]), json!({})),
        sleep(1.5),
        event("Updated", 2, "MeterValuePeriodic", "Charging", json!([energy(json!(4200), "Wh"), power(json!(6800), 0)]), json!({})),
        sleep(1.5),
        // The reason a transaction stopped is part of its transactionInfo.
        {
            let mut ended = event("Ended", 3, "EVDeparted", "Idle", json!([energy(json!(4300), "Wh")]), json!({}));
            ended["payload"]["transactionInfo"]["stoppedReason"] = json!("EVDisconnected");
            ended
        },
        status("Available"),
    ]
}

async fn meter_values_show_live_within_a_second(protocol: &'static str) {
    let joule = Joule::platform().await;
    let (driver, tag, cp) = if protocol == OCPP16 { ("tel-ada", "7E1A0001", "TEL-16") } else { ("tel-bob", "7E1B0001", "TEL-201") };
    driver_with_tag(&joule, driver, tag).await;
    let tariff = ev::create_tariff(&joule).await;
    let station = charge_point_station(&joule, &tariff, cp).await;
    let (plan, metered) =
        if protocol == OCPP16 { (charging_plan_16(tag), "MeterValues") } else { (charging_plan_201(tag), "TransactionEvent") };
    let mut charger = Running::start(&joule, cp, protocol, &plan);
    if protocol == OCPP201 {
        let (started, _) = charger.answered("TransactionEvent").await;
        assert_eq!(started["idTokenInfo"]["status"], "Accepted", "{started}");
    } else {
        let (started, _) = charger.answered("StartTransaction").await;
        assert_eq!(started["idTagInfo"]["status"], "Accepted", "{started}");
    }

    // 3.5 kWh on a register that started at 1000 Wh, at 7.4 kW.
    let (_, sent) = charger.answered(metered).await;
    let (view, _) = live_until(&joule, &station, sent, LIVE_WITHIN, "the first reading", |v| charging(v, json!(7400), 2500)).await;
    let session = session_of(&joule, driver).await;
    let line = connector(&view, "1");
    assert_eq!(line["sessionId"], session["id"], "{view}");
    assert_eq!((&view["stationId"], &view["chargePointId"], &view["online"]), (&json!(station), &json!(cp), &json!(true)), "{view}");
    assert_eq!(connector(&view, "2")["sessionId"], Value::Null, "the other connector is idle: {view}");

    // 4200 Wh at 6.8 kW.
    let (_, sent) = charger.answered(metered).await;
    let (view, _) = live_until(&joule, &station, sent, LIVE_WITHIN, "the second reading", |v| charging(v, json!(6800), 3200)).await;
    assert!(time(&connector(&view, "1")["updatedAt"]) > time(&session["startedAt"]), "{view}");

    // The stop: nothing charges any more.
    let stopped = if protocol == OCPP16 { "StopTransaction" } else { "TransactionEvent" };
    let (_, sent) = charger.answered(stopped).await;
    let (view, _) = live_until(&joule, &station, sent, LIVE_WITHIN, "the stop", |v| connector(v, "1")["sessionId"].is_null()).await;
    assert_eq!((&connector(&view, "1")["powerW"], &connector(&view, "1")["energyWh"]), (&Value::Null, &Value::Null), "{view}");
    charger.finish().await;
    eventually("the connector available again", || async { connector(&live(&joule, &station).await.1, "1")["status"] == "Available" })
        .await;
}

#[tokio::test]
async fn a_1_6_meter_value_shows_in_the_live_view_within_a_second() {
    meter_values_show_live_within_a_second(OCPP16).await;
}

#[tokio::test]
async fn a_2_0_1_meter_value_shows_in_the_live_view_within_a_second() {
    meter_values_show_live_within_a_second(OCPP201).await;
}

/// Every reading of `scripts/simulate_chargers.py`'s chargers shows live within a second of
/// the time the charger took it, with its power and the energy since the session's start.
#[tokio::test]
async fn simulated_chargers_show_each_reading_live() {
    let joule = Joule::platform().await;
    let (operator, driver) = (joule.token("tel-sim-operator", &["operator"]), joule.token("tel-sim-driver", &["driver"]));
    let simulator = tokio::process::Command::new(python())
        .arg(repo_root().join("scripts/simulate_chargers.py"))
        .args([
            "--url", &ocpp_url(&joule.url("")), "--api", &joule.url(""), "--protocol", OCPP16, "--prefix", "TELSIM", "--tag", "7E5A0001",
            "--chargers", "2", "--sessions", "1", "--power-kw", "36", "--meter-every", "1", "--charge-for", "5", "--park-for", "1",
            "--operator-token", &operator, "--driver-token", &driver,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the simulator");
    let mut stations = Vec::new();
    for cp in ["TELSIM-0001", "TELSIM-0002"] {
        stations.push(station_with_charge_point(&joule, cp).await);
    }
    // Each reading adds 10 Wh (36 kW for a second) to a register that started at 0.
    let mut readings: Vec<Vec<String>> = vec![Vec::new(); stations.len()];
    let watching = Instant::now();
    while readings.iter().any(|r| r.len() < 3) {
        assert!(watching.elapsed() < Duration::from_secs(60), "readings seen: {readings:?}");
        for (station, seen) in stations.iter().zip(readings.iter_mut()) {
            let (status, view) = live(&joule, station).await;
            let shown_at = Utc::now();
            assert_eq!(status, 200, "{view}");
            let line = connector(&view, "1");
            let Some(energy) = line["energyWh"].as_i64().filter(|wh| *wh > 0) else { continue };
            let taken_at = time(&line["updatedAt"]);
            if seen.last() == line["updatedAt"].as_str().map(str::to_owned).as_ref() {
                continue;
            }
            assert!(shown_at - taken_at < TimeDelta::from_std(LIVE_WITHIN).unwrap(), "shown {shown_at}, taken {taken_at}: {view}");
            assert_eq!((&line["powerW"], energy % 10, &line["status"]), (&json!(36000), 0, &json!("Charging")), "{view}");
            seen.push(line["updatedAt"].as_str().unwrap().to_string());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let output = tokio::time::timeout(Duration::from_secs(60), simulator.wait_with_output()).await.expect("the simulator ended").unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("sessions: 2 started, 0 refused, 2 stopped"), "{report}\n{}", String::from_utf8_lossy(&output.stderr));
}

/// The station of charge point `cp`, once the simulator has made it.
async fn station_with_charge_point(joule: &Joule, cp: &str) -> String {
    let started = Instant::now();
    loop {
        let (_, page) = get(joule, "/api/v1/stations?limit=100").await;
        let found = page["items"].as_array().into_iter().flatten().find(|s| s["ocpp"]["chargePointId"] == cp);
        if let Some(station) = found {
            return station["id"].as_str().unwrap().to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no station has {cp}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// --- (b) offline after three silent intervals, and back ------------------------------------

#[tokio::test]
async fn a_charge_point_whose_heartbeats_stop_goes_offline_on_time_and_comes_back_online() {
    let state = State::new();
    let (joule, watch) = watched_platform(&state, &["charger.#", "charge-point.heartbeat.v1"]).await;
    let tariff = ev::create_tariff(&joule).await;
    let station = charge_point_station(&joule, &tariff, "TEL-QUIET").await;
    let beat = || call("Heartbeat", json!({}));
    let plan = [
        call("BootNotification", json!({ "chargePointVendor": "Joule Test", "chargePointModel": "CP-1" })),
        beat(),
        sleep(1.0),
        beat(),
        sleep(1.0),
        beat(),
        // Silent for six intervals, still connected: offline after three.
        sleep(6.0),
        beat(),
    ];
    let mut charger = Running::start(&joule, "TEL-QUIET", OCPP16, &plan);
    let (boot, _) = charger.answered("BootNotification").await;
    assert_eq!(boot["interval"], 1, "{boot}");
    for _ in 0..2 {
        charger.answered("Heartbeat").await;
    }
    let (_, last_beat) = charger.answered("Heartbeat").await;
    let (view, _) = live_until(&joule, &station, last_beat, Duration::from_secs(1), "the heartbeat", |v| v["online"] == true).await;
    assert_eq!((&view["chargePointId"], &view["heartbeatIntervalSeconds"]), (&json!("TEL-QUIET"), &json!(1)), "{view}");

    // Offline three intervals after the last heartbeat, by the timer: not before, and not
    // much after.
    let (view, offline_at) =
        live_until(&joule, &station, last_beat, Duration::from_millis(4500), "offline", |v| v["online"] == false).await;
    assert!(offline_at - last_beat >= Duration::from_millis(2800), "offline {:?} after the last heartbeat: {view}", offline_at - last_beat);
    let offline = watch.one("charger.offline.v1").await;
    let data = &offline.event["data"];
    let (last_heard, since) = (time(&data["lastHeardAt"]), time(&data["offlineSince"]));
    assert_eq!((&data["stationId"], &data["chargePointId"]), (&json!(station), &json!("TEL-QUIET")), "{data}");
    assert_eq!(since - last_heard, TimeDelta::seconds(3), "three intervals: {data}");
    let published_after = offline.at - last_heard;
    assert!(
        published_after >= TimeDelta::seconds(3) && published_after <= TimeDelta::milliseconds(4500),
        "charger.offline.v1 published {published_after} after the last heartbeat: {offline:?}"
    );
    assert_eq!((&view["offlineSince"], &view["lastHeartbeatAt"]), (&data["offlineSince"], &data["lastHeardAt"]), "{view}");
    let beats = watch.events("charge-point.heartbeat.v1").await;
    assert_eq!(beats.len(), 3, "{beats:#?}");
    assert_eq!(beats[2].event["data"]["at"], data["lastHeardAt"], "the last heartbeat was the last word: {beats:#?}");
    assert!(beats.iter().all(|b| b.event["data"]["intervalSeconds"] == 1 && b.event["data"]["stationId"] == station), "{beats:#?}");

    // It speaks again: online, and said so.
    let (_, back) = charger.answered("Heartbeat").await;
    let (view, _) = live_until(&joule, &station, back, Duration::from_secs(1), "back online", |v| v["online"] == true).await;
    assert_eq!(view["offlineSince"], Value::Null, "{view}");
    let online = watch.one("charger.online.v1").await;
    let data = &online.event["data"];
    assert_eq!((&data["stationId"], &data["offlineSince"]), (&json!(station), &offline.event["data"]["offlineSince"]), "{data}");
    eventually("the fourth heartbeat", || async { watch.events("charge-point.heartbeat.v1").await.len() == 4 }).await;
    let beats = watch.events("charge-point.heartbeat.v1").await;
    assert_eq!(beats[3].event["data"]["at"], data["at"], "{beats:#?}");
    eventually("the last heartbeat in the view", || async { live(&joule, &station).await.1["lastHeartbeatAt"] == data["at"] }).await;
    charger.finish().await;
}

// --- (c) stations the view knows, and those it does not ------------------------------------

#[tokio::test]
async fn unknown_and_removed_stations_are_404_and_a_rest_session_shows_live() {
    let joule = Joule::platform().await;
    for id in ["01900000-0000-7000-8000-000000000000", "not-a-station", "%20"] {
        let (status, body) = live(&joule, id).await;
        assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")), "{id}: {body}");
    }

    // A station without a charge point: its connectors, and nothing heard of a charge point.
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    eventually("the station in the live view", || async { live(&joule, &station).await.0 == 200 }).await;
    let (_, view) = live(&joule, &station).await;
    assert_eq!((&view["chargePointId"], &view["online"], &view["lastHeartbeatAt"]), (&Value::Null, &Value::Null, &Value::Null), "{view}");
    let statuses: Vec<&Value> = view["connectors"].as_array().unwrap().iter().map(|c| &c["status"]).collect();
    assert_eq!(statuses, [&json!("Available"), &json!("Available")], "{view}");

    // A session over REST: charging from its start, its readings live, idle after its stop.
    let start = json!({ "stationId": station, "connectorId": "2", "driverId": "tel-rest", "meterStartWh": 1000 });
    let session = start_when_known(&joule, &start).await;
    let session_id = session["id"].as_str().unwrap();
    eventually("the session in the live view", || async { connector(&live(&joule, &station).await.1, "2")["sessionId"] == session_id }).await;
    let (_, view) = live(&joule, &station).await;
    let line = connector(&view, "2");
    assert_eq!((&line["status"], &line["energyWh"], &line["powerW"]), (&json!("Charging"), &json!(0), &Value::Null), "{view}");
    let reading = json!({ "timestamp": api_time(Utc::now()), "energyWh": 1800 });
    let sent = Instant::now();
    let (status, body) = send_json(joule.operator().post(joule.url(&format!("/api/v1/sessions/{session_id}/meter-values"))), &reading).await;
    assert_eq!(status, 201, "{body}");
    live_until(&joule, &station, sent, LIVE_WITHIN, "the REST reading", |v| connector(v, "2")["energyWh"] == 800).await;
    let stop = json!({ "meterStopWh": 1900 });
    let (status, body) = send_json(joule.operator().post(joule.url(&format!("/api/v1/sessions/{session_id}/stop"))), &stop).await;
    assert_eq!(status, 200, "{body}");
    eventually("the connector idle", || async {
        let view = live(&joule, &station).await.1;
        connector(&view, "2")["sessionId"].is_null() && connector(&view, "2")["status"] == "Available"
    })
    .await;

    // Removed: the live view forgets it.
    let response = joule.operator().delete(joule.url(&format!("/api/v1/stations/{station}"))).send().await.expect("DELETE");
    assert_eq!(response.status(), 204);
    eventually("the removed station gone from the live view", || async { live(&joule, &station).await.0 == 404 }).await;
    let (_, body) = live(&joule, &station).await;
    assert_eq!(body["error"]["code"], "not_found", "{body}");
}

/// Starts a REST session once the sessions' copy of the station has it.
async fn start_when_known(joule: &Joule, start: &Value) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = send_json(joule.operator().post(joule.url("/api/v1/sessions")), start).await;
        if status == 201 {
            return body;
        }
        let station_unknown = status == 422 && body["error"]["details"]["stationId"].is_string();
        assert!(station_unknown && started.elapsed() < Duration::from_secs(60), "{status} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn api_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
