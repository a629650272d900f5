//! The reports through the EV platform's own spin.toml, on whichever backends the suite runs
//! against: a scripted day of sessions on two stations, priced by billing with DOMAIN.md's
//! worked-example tariff and one of them paid, must give the utilization, energy and revenue
//! worked out by hand below; replayed events, an invoice told before its session, late
//! facts and the nightly roll-up must not change what a report says; CSV says what JSON
//! says; and only operators, with good parameters, get an answer.

use std::collections::BTreeMap;
use std::str::FromStr as _;

use chrono::{DateTime, Datelike as _, FixedOffset, NaiveDate, TimeDelta, Utc};
use joule_tests::ev::{self, get, get_as};
use joule_tests::{Joule, State, broker, client, eventually, read, send_json};
use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::{Value, json};
use sqlx::{ConnectOptions as _, Row as _};

/// The stations' zone (ev::TIME_ZONE), as a fixed offset: Tokyo keeps no daylight saving.
fn tokyo() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("UTC+9")
}

/// `"HH:MM"` on `day` in Tokyo, as the API's RFC 3339 text.
fn at(day: NaiveDate, time: &str) -> String {
    format!("{day}T{time}:00+09:00")
}

/// The Tokyo day of an RFC 3339 instant.
fn tokyo_day(instant: &str) -> NaiveDate {
    DateTime::parse_from_rfc3339(instant).expect("an RFC 3339 time").with_timezone(&tokyo()).date_naive()
}

/// The last Monday that ended at least two days ago everywhere: the roll-up may take it and
/// the day after it, and the worked example's Monday evening prices apply.
fn past_monday() -> NaiveDate {
    let latest = (Utc::now() + TimeDelta::hours(9)).date_naive() - TimeDelta::days(3);
    latest - TimeDelta::days(i64::from(latest.weekday().num_days_from_monday()))
}

fn report(kind: &str, from: NaiveDate, to: NaiveDate) -> String {
    format!("/api/v1/reports/{kind}?from={from}&to={to}")
}

/// Starts a session, once the reservations component's copy of the station is there.
async fn start(joule: &Joule, station: &str, connector: &str, driver: &str, meter: u64, started_at: &str) -> String {
    let body = json!({ "stationId": station, "connectorId": connector, "driverId": driver, "meterStartWh": meter,
                       "startedAt": started_at });
    let started = std::time::Instant::now();
    loop {
        let (status, session) = send_json(joule.operator().post(joule.url("/api/v1/sessions")), &body).await;
        let station_unknown = status == 422 && session["error"]["details"]["stationId"].is_string();
        if !station_unknown || started.elapsed() > std::time::Duration::from_secs(60) {
            assert_eq!(status, 201, "{session}");
            return session["id"].as_str().expect("a session id").to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn meter(joule: &Joule, session: &str, timestamp: &str, energy_wh: u64) {
    let url = joule.url(&format!("/api/v1/sessions/{session}/meter-values"));
    let (status, body) = send_json(joule.operator().post(url), &json!({ "timestamp": timestamp, "energyWh": energy_wh })).await;
    assert_eq!(status, 201, "{body}");
}

/// Stops the session and returns billing's invoice for it.
async fn stop(joule: &Joule, session: &str, meter_stop_wh: u64, stopped_at: &str, unplugged_at: &str) -> Value {
    let url = joule.url(&format!("/api/v1/sessions/{session}/stop"));
    let body = json!({ "meterStopWh": meter_stop_wh, "stoppedAt": stopped_at, "unpluggedAt": unplugged_at });
    let (status, stopped) = send_json(joule.operator().post(url), &body).await;
    assert_eq!(status, 200, "{stopped}");
    let by_session = format!("/api/v1/invoices?sessionId={session}");
    eventually("the invoice", || async { get(joule, &by_session).await.1["items"].as_array().is_some_and(|i| !i.is_empty()) })
        .await;
    get(joule, &by_session).await.1["items"][0].clone()
}

fn totals(invoice: &Value) -> (&str, &str) {
    (invoice["totalExclVat"].as_str().unwrap_or_default(), invoice["totalInclVat"].as_str().unwrap_or_default())
}

/// A CloudEvents envelope, as the platform's relay writes them.
fn envelope(id: &str, kind: &str, time: &str, data: Value) -> Value {
    json!({ "specversion": "1.0", "id": id, "source": "ev-reports-test", "type": kind, "time": time,
            "datacontenttype": "application/json", "data": data })
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Delivers an event to the reports component's queue only, as if the broker routed it there.
async fn deliver(state: &State, envelope: &Value) {
    let queue = state.queue("ev-platform", "reports");
    let Some(services) = state.services() else {
        broker::deliver(state, &queue, "", envelope).await;
        return;
    };
    // Through the default exchange, which routes by queue name: no other component gets it.
    let connection = Connection::connect(&services.amqp_url, ConnectionProperties::default()).await.expect("connect");
    let channel = connection.create_channel().await.expect("channel");
    let body = serde_json::to_vec(envelope).expect("json");
    let properties = BasicProperties::default().with_delivery_mode(2);
    channel
        .basic_publish("".into(), queue.as_str().into(), BasicPublishOptions::default(), &body, properties)
        .await
        .expect("publish");
    let _ = connection.close(200, "done".into()).await;
}

/// The number of roll-ups that ran, and the days of the rolled-up usage rows, read from the
/// component's own tables: no report tells them apart from live figures, by design.
async fn rolled_up(state: &State) -> (i64, Vec<NaiveDate>, Vec<NaiveDate>) {
    let queries = [
        "SELECT count(*) AS n FROM {s}rollups",
        "SELECT DISTINCT day FROM {s}daily_usage ORDER BY day",
        "SELECT day FROM {s}dirty_days ORDER BY day",
    ];
    match state.database_url() {
        Some(url) => {
            let mut connection = sqlx::postgres::PgConnectOptions::from_str(&url).unwrap().connect().await.unwrap();
            let sql = |q: &str| q.replace("{s}", "ev_platform_reports.");
            let runs: i64 = sqlx::query(&sql(queries[0])).fetch_one(&mut connection).await.unwrap().get("n");
            let mut days = Vec::new();
            for query in &queries[1..] {
                let rows = sqlx::query(&sql(query)).fetch_all(&mut connection).await.unwrap();
                days.push(rows.iter().map(|row| row.get::<NaiveDate, _>("day")).collect());
            }
            (runs, days.remove(0), days.remove(0))
        }
        None => {
            let path = state.path().join("joule/databases/reports.db");
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display())).unwrap();
            let mut connection = options.read_only(true).connect().await.unwrap();
            let sql = |q: &str| q.replace("{s}", "");
            let runs: i64 = sqlx::query(&sql(queries[0])).fetch_one(&mut connection).await.unwrap().get("n");
            let mut days = Vec::new();
            for query in &queries[1..] {
                let rows = sqlx::query(&sql(query)).fetch_all(&mut connection).await.unwrap();
                days.push(rows.iter().map(|row| row.get::<String, _>("day").parse().unwrap()).collect());
            }
            (runs, days.remove(0), days.remove(0))
        }
    }
}

/// Asks for the report as CSV and checks it holds exactly the JSON items: the header is
/// their field names, and each row their values (numbers as written, null empty).
async fn assert_csv_matches_json(joule: &Joule, path: &str) {
    let (status, body) = get(joule, path).await;
    assert_eq!(status, 200, "{body}");
    let response = joule.operator().get(joule.url(path)).header("accept", "text/csv").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let text = response.text().await.unwrap();
    assert!(text.ends_with("\r\n"), "CRLF line ends: {text:?}");
    let rows = joule_tests::csv_rows(&text);
    let items = body["items"].as_array().unwrap();
    assert_eq!(rows.len(), items.len() + 1, "a header and one row per item: {text}");
    let header = &rows[0];
    for (item, row) in items.iter().zip(&rows[1..]) {
        let fields: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(fields.len(), header.len(), "{item} against {header:?}");
        for (name, value) in header.iter().zip(row) {
            let expected = match &item[name] {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            assert_eq!(value, &expected, "{name} of {item} in {path} as CSV");
        }
    }
}

/// A utilization item: `figures` are sessions, hours charging, hours occupied and utilization.
fn usage(day: NaiveDate, station: &str, name: Value, connector: &str, figures: (i64, &str, &str, &str)) -> Value {
    let (sessions, charging, occupied, share) = figures;
    json!({ "day": day.to_string(), "stationId": station, "stationName": name, "connectorId": connector, "sessions": sessions,
            "hoursCharging": charging, "hoursOccupied": occupied, "hoursInDay": "24.0000", "utilization": share })
}

fn energy(day: NaiveDate, station: &str, name: Value, kwh: &str) -> Value {
    json!({ "day": day.to_string(), "stationId": station, "stationName": name, "energyKwh": kwh })
}

/// Items in the reports' order: by day, station and connector (or currency).
fn sorted(mut items: Vec<Value>) -> Value {
    let key = |item: &Value| {
        let text = |name: &str| item[name].as_str().unwrap_or("\u{10FFFF}").to_string();
        (text("day"), text("stationId"), text("connectorId"), text("currency"))
    };
    items.sort_by_key(key);
    Value::Array(items)
}

async fn items(joule: &Joule, path: &str) -> Value {
    let (status, body) = get(joule, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body["items"].clone()
}

/// Revenue per Tokyo day and station, from `(day, station, excl, incl)` invoices and
/// `(day, station, amount)` payments, amounts as written by hand.
fn revenue(
    invoices: &[(NaiveDate, &str, &str, &str)],
    payments: &[(NaiveDate, &str, &str)],
    names: &BTreeMap<&str, &str>,
) -> Value {
    type Sums = (i64, rust_decimal::Decimal, rust_decimal::Decimal, rust_decimal::Decimal);
    let mut sums: BTreeMap<(NaiveDate, &str), Sums> = BTreeMap::new();
    let d = |text: &str| text.parse::<rust_decimal::Decimal>().unwrap();
    for (day, station, excl, incl) in invoices {
        let entry = sums.entry((*day, *station)).or_default();
        (entry.0, entry.1, entry.2) = (entry.0 + 1, entry.1 + d(excl), entry.2 + d(incl));
    }
    for (day, station, amount) in payments {
        sums.entry((*day, *station)).or_default().3 += d(amount);
    }
    let money = |value: rust_decimal::Decimal| format!("{:.2}", value);
    sorted(
        sums.into_iter()
            .map(|((day, station), (count, excl, incl, paid))| {
                json!({ "day": day.to_string(), "stationId": station, "stationName": names[station], "currency": "EUR",
                        "invoices": count, "invoicedExclVat": money(excl), "invoicedInclVat": money(incl), "paid": money(paid) })
            })
            .collect(),
    )
}

#[tokio::test]
async fn a_scripted_day_gives_hand_computed_figures_whatever_replays_late_facts_and_the_roll_up() {
    let state = State::new();
    let joule = Joule::with("spin.toml").state(&state).ready().await;
    let monday = past_monday();
    let tuesday = monday + TimeDelta::days(1);

    // Two stations on the worked-example tariff; the second's name needs CSV quoting.
    let tariff = ev::create_tariff(&joule).await;
    let a = ev::create_station(&joule, &tariff).await;
    let mut pier = ev::station(&tariff);
    pier["name"] = json!("Pier 4, \"East\"");
    let (status, created) = send_json(joule.operator().post(joule.url("/api/v1/stations")), &pier).await;
    assert_eq!(status, 201, "{created}");
    let b = created["id"].as_str().unwrap().to_string();

    // A/1: DOMAIN.md's worked example. 16:30 to 17:40 charging (5.5 then 7.3 kWh), unplugged
    // at 18:02: 6.57, 7.88 with VAT.
    let s1 = start(&joule, &a, "1", "driver-ada", 1000, &at(monday, "16:30")).await;
    meter(&joule, &s1, &at(monday, "17:00"), 6500).await;
    let i1 = stop(&joule, &s1, 13800, &at(monday, "17:40"), &at(monday, "18:02")).await;
    assert_eq!(totals(&i1), ("6.57", "7.88"), "{i1}");
    // A/1 again, over midnight: 22:30 to 00:00 (6 kWh), 00:00 to 00:30 (2 kWh), both at
    // 0.25, unplugged at 01:00: 0.50 + 2.00 + 30 minutes parked at 6.00 an hour = 5.50, 6.60.
    let s2 = start(&joule, &a, "1", "driver-bob", 20000, &at(monday, "22:30")).await;
    meter(&joule, &s2, &at(tuesday, "00:00"), 26000).await;
    let i2 = stop(&joule, &s2, 28000, &at(tuesday, "00:30"), &at(tuesday, "01:00")).await;
    assert_eq!(totals(&i2), ("5.50", "6.60"), "{i2}");
    // A/2: 09:00 to 10:00, 10 kWh at 0.25, unplugged at once: 0.50 + 2.50 = 3.00, 3.60.
    let s3 = start(&joule, &a, "2", "driver-cy", 0, &at(monday, "09:00")).await;
    let i3 = stop(&joule, &s3, 10000, &at(monday, "10:00"), &at(monday, "10:00")).await;
    assert_eq!(totals(&i3), ("3.00", "3.60"), "{i3}");
    // B/1: 20:00 to 21:00 (6 kWh at the evening's 0.30), 21:00 to 21:30 (3 kWh at 0.25),
    // unplugged at 22:00: 0.50 + 1.80 + 0.75 + 3.00 = 6.05, 7.26.
    let s4 = start(&joule, &b, "1", "driver-dee", 5000, &at(monday, "20:00")).await;
    meter(&joule, &s4, &at(monday, "21:00"), 11000).await;
    let i4 = stop(&joule, &s4, 14000, &at(monday, "21:30"), &at(monday, "22:00")).await;
    assert_eq!(totals(&i4), ("6.05", "7.26"), "{i4}");
    // The worked example is paid.
    let pay = joule.url(&format!("/api/v1/invoices/{}/pay", i1["id"].as_str().unwrap()));
    let (status, paid) = send_json(joule.operator().post(pay), &json!({})).await;
    assert_eq!(status, 200, "{paid}");

    // By hand. Monday, A/1: two sessions, 70 + 90 minutes charging, 92 + 90 occupied (182 of
    // the day's 1440: 0.1264); A/2: one hour each (1/24); B/1: 1.5 hours charging, 2 occupied
    // (2/24). Tuesday, A/1: the overnight session's 30 minutes charging and 60 occupied.
    let names = BTreeMap::from([(a.as_str(), "Harbour Hub"), (b.as_str(), "Pier 4, \"East\"")]);
    let name = |station: &str| json!(names[station]);
    let expected_usage = sorted(vec![
        usage(monday, &a, name(&a), "1", (2, "2.6667", "3.0333", "0.1264")),
        usage(monday, &a, name(&a), "2", (1, "1.0000", "1.0000", "0.0417")),
        usage(monday, &b, name(&b), "1", (1, "1.5000", "2.0000", "0.0833")),
        usage(tuesday, &a, name(&a), "1", (0, "0.5000", "1.0000", "0.0417")),
    ]);
    // kWh: A on Monday 12.8 + 6 + 10, on Tuesday 2; B 6 + 3.
    let expected_energy = sorted(vec![
        energy(monday, &a, name(&a), "28.800"),
        energy(monday, &b, name(&b), "9.000"),
        energy(tuesday, &a, name(&a), "2.000"),
    ]);
    // Invoiced on the Tokyo day billing wrote each invoice, paid on the day of payment.
    let created = |invoice: &Value| tokyo_day(invoice["createdAt"].as_str().unwrap());
    let expected_revenue = revenue(
        &[
            (created(&i1), &a, "6.57", "7.88"),
            (created(&i2), &a, "5.50", "6.60"),
            (created(&i3), &a, "3.00", "3.60"),
            (created(&i4), &b, "6.05", "7.26"),
        ],
        &[(tokyo_day(paid["paidAt"].as_str().unwrap()), &a, "7.88")],
        &names,
    );
    let today = (Utc::now() + TimeDelta::hours(9)).date_naive();
    let utilization_path = report("utilization", monday, tuesday);
    let energy_path = report("energy", monday, tuesday);
    let revenue_path = report("revenue", monday, today + TimeDelta::days(1));

    eventually("the reports' facts", || async {
        items(&joule, &revenue_path).await == expected_revenue && items(&joule, &utilization_path).await == expected_usage
    })
    .await;
    let expect_all = |extra_usage: Vec<Value>, extra_energy: Vec<Value>, extra_revenue: Vec<Value>| {
        let mut usage = expected_usage.as_array().unwrap().clone();
        usage.extend(extra_usage);
        let mut energy = expected_energy.as_array().unwrap().clone();
        energy.extend(extra_energy);
        let mut revenue = expected_revenue.as_array().unwrap().clone();
        revenue.extend(extra_revenue);
        (sorted(usage), sorted(energy), sorted(revenue))
    };
    let check = |expected: (Value, Value, Value), when: &'static str| {
        let joule = &joule;
        let (utilization_path, energy_path, revenue_path) = (&utilization_path, &energy_path, &revenue_path);
        async move {
            assert_eq!(items(joule, utilization_path).await, expected.0, "utilization {when}");
            assert_eq!(items(joule, energy_path).await, expected.1, "energy {when}");
            assert_eq!(items(joule, revenue_path).await, expected.2, "revenue {when}");
        }
    };
    check(expect_all(vec![], vec![], vec![]), "from the facts").await;
    let (_, body) = get(&joule, &utilization_path).await;
    assert_eq!(
        (body["from"].as_str(), body["to"].as_str()),
        (Some(monday.to_string().as_str()), Some(tuesday.to_string().as_str()))
    );
    // One station; and a currency nobody invoiced in.
    let only_b = items(&joule, &format!("{utilization_path}&stationId={b}")).await;
    assert_eq!(only_b, json!([expected_usage.as_array().unwrap().iter().find(|u| u["stationId"] == b.as_str()).unwrap()]));
    assert_eq!(items(&joule, &format!("{revenue_path}&currency=EUR")).await, expected_revenue);
    assert_eq!(items(&joule, &format!("{revenue_path}&currency=USD")).await, json!([]));
    for path in [&utilization_path, &energy_path, &revenue_path] {
        assert_csv_matches_json(&joule, path).await;
    }

    // Replays. The worked example's completion again under its own id (the inbox drops it),
    // and under new ids: the overnight completion, the worked example's start after its end,
    // B's invoice, and the payment with a later time.
    eventually("the worked example's notifications", || async {
        let (_, inbox) = get(&joule, "/api/v1/notifications?recipient=driver-ada").await;
        inbox["items"].as_array().is_some_and(|items| items.iter().any(|n| n["eventType"] == "charging.session.completed.v1"))
    })
    .await;
    let (_, inbox) = get(&joule, "/api/v1/notifications?recipient=driver-ada").await;
    let completed_id =
        inbox["items"].as_array().unwrap().iter().find(|n| n["eventType"] == "charging.session.completed.v1").unwrap()["eventId"]
            .as_str()
            .unwrap()
            .to_string();
    let session_data = |id: &str, periods: Value| {
        let joule = &joule;
        let id = id.to_string();
        async move {
            let (_, mut session) = get(joule, &format!("/api/v1/sessions/{id}")).await;
            session["sessionId"] = json!(id);
            session["periods"] = periods;
            session
        }
    };
    let period = |from: String, to: String, wh: u64| json!({ "startsAt": from, "endsAt": to, "energyWh": wh });
    let s1_data = session_data(
        &s1,
        json!([period(at(monday, "16:30"), at(monday, "17:00"), 5500), period(at(monday, "17:00"), at(monday, "17:40"), 7300)]),
    )
    .await;
    let s2_data = session_data(
        &s2,
        json!([
            period(at(monday, "22:30"), at(tuesday, "00:00"), 6000),
            period(at(tuesday, "00:00"), at(tuesday, "00:30"), 2000)
        ]),
    )
    .await;
    let now = Utc::now().to_rfc3339();
    let mut i4_data = i4.clone();
    i4_data["invoiceId"] = i4["id"].clone();
    let payment = json!({ "invoiceId": i1["id"], "driverId": "driver-ada", "currency": "EUR", "amount": "7.88",
                          "paymentReference": paid["paymentReference"] });
    let tomorrow = (Utc::now() + TimeDelta::days(1)).to_rfc3339();
    let mut s1_started = s1_data.clone();
    for ended in ["stoppedAt", "unpluggedAt", "energyWh", "meterStopWh", "periods"] {
        s1_started.as_object_mut().unwrap().remove(ended);
    }
    s1_started["status"] = json!("active");
    let replays = [
        envelope(&completed_id, "charging.session.completed.v1", &now, s1_data.clone()),
        envelope(&completed_id, "charging.session.completed.v1", &now, s1_data),
        envelope(&new_id(), "charging.session.completed.v1", &now, s2_data),
        envelope(&new_id(), "charging.session.started.v1", &now, s1_started),
        envelope(&new_id(), "invoice.created.v1", &now, i4_data),
        envelope(&new_id(), "payment.completed.v1", &tomorrow, payment),
    ];
    for replay in &replays {
        deliver(&state, replay).await;
    }

    // An invoice told before its session (and the marker that the replays were handled):
    // invoice X of session X at a station nobody has heard of, at noon Monday in Tokyo.
    let (station_x, session_x, invoice_x) = (uuid::Uuid::new_v4().to_string(), new_id(), new_id());
    let noon = at(monday, "12:00");
    let invoice = json!({ "id": invoice_x, "invoiceId": invoice_x, "kind": "charging", "sessionId": session_x, "stayId": null,
                          "lotId": null, "currency": "EUR", "totalExclVat": "1.00", "totalInclVat": "1.20", "status": "open",
                          "createdAt": noon });
    deliver(&state, &envelope(&new_id(), "invoice.created.v1", &now, invoice)).await;
    let unplaced = json!({ "day": monday.to_string(), "stationId": null, "stationName": null, "currency": "EUR", "invoices": 1,
                           "invoicedExclVat": "1.00", "invoicedInclVat": "1.20", "paid": "0.00" });
    eventually("the invoice with no station yet", || async {
        items(&joule, &revenue_path).await.as_array().unwrap().contains(&unplaced)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    check(expect_all(vec![], vec![], vec![unplaced.clone()]), "after the replays").await;

    // Its session arrives: 11:00 to 11:30 charging 3 kWh, unplugged 11:45, on connector 9.
    let completed = json!({ "sessionId": session_x, "id": session_x, "stationId": station_x, "connectorId": "9", "driverId": "driver-x",
                            "status": "completed", "timeZone": ev::TIME_ZONE, "startedAt": at(monday, "11:00"),
                            "stoppedAt": at(monday, "11:30"), "unpluggedAt": at(monday, "11:45"), "energyWh": 3000,
                            "periods": [period(at(monday, "11:00"), at(monday, "11:30"), 3000)] });
    deliver(&state, &envelope(&new_id(), "charging.session.completed.v1", &now, completed)).await;
    let placed = |name: Value, paid: &str| {
        json!({ "day": monday.to_string(), "stationId": station_x, "stationName": name, "currency": "EUR", "invoices": 1,
                "invoicedExclVat": "1.00", "invoicedInclVat": "1.20", "paid": paid })
    };
    eventually("the invoice at its session's station", || async {
        items(&joule, &revenue_path).await.as_array().unwrap().contains(&placed(Value::Null, "0.00"))
    })
    .await;
    // And the station's own event, later still, names it.
    let station = json!({ "id": station_x, "name": "Late Lot", "timeZone": ev::TIME_ZONE, "connectors": [], "updatedAt": now });
    deliver(&state, &envelope(&new_id(), "station.created.v1", &now, station)).await;
    let x_usage_named = usage(monday, &station_x, json!("Late Lot"), "9", (1, "0.5000", "0.7500", "0.0313"));
    eventually("the late station's name", || async {
        items(&joule, &utilization_path).await.as_array().unwrap().contains(&x_usage_named)
    })
    .await;
    let with_x = |paid: &str| {
        expect_all(
            vec![x_usage_named.clone()],
            vec![energy(monday, &station_x, json!("Late Lot"), "3.000")],
            vec![placed(json!("Late Lot"), paid)],
        )
    };
    check(with_x("0.00"), "with the late session").await;

    // The roll-up, as the schedule delivers it: Monday and Tuesday are rolled up, and the
    // reports say the same from the daily tables.
    let (runs, _, _) = rolled_up(&state).await;
    deliver(&state, &envelope(&new_id(), "reports.daily-rollup.v1", &now, json!({}))).await;
    eventually("the roll-up", || async { rolled_up(&state).await.0 > runs }).await;
    let rolled = rolled_up(&state).await;
    assert!(rolled.1.contains(&monday) && rolled.1.contains(&tuesday), "rolled up: {rolled:?}");
    assert!(!rolled.2.contains(&monday) && !rolled.2.contains(&tuesday), "still dirty: {rolled:?}");
    check(with_x("0.00"), "from the roll-up").await;
    for path in [&utilization_path, &energy_path, &revenue_path] {
        assert_csv_matches_json(&joule, path).await;
    }

    // A late payment of invoice X, at 13:00 Monday: the rolled-up Monday is dirty again and
    // the report has it at once; the next roll-up keeps it.
    let late = json!({ "invoiceId": invoice_x, "currency": "EUR", "amount": "1.20", "paymentReference": "late-1" });
    deliver(&state, &envelope(&new_id(), "payment.completed.v1", &at(monday, "13:00"), late)).await;
    eventually("the late payment", || async { items(&joule, &revenue_path).await == with_x("1.20").2 }).await;
    check(with_x("1.20"), "with the late payment").await;
    let runs = rolled_up(&state).await.0;
    deliver(&state, &envelope(&new_id(), "reports.daily-rollup.v1", &Utc::now().to_rfc3339(), json!({}))).await;
    eventually("the second roll-up", || async { rolled_up(&state).await.0 > runs }).await;
    assert!(!rolled_up(&state).await.2.contains(&monday));
    check(with_x("1.20"), "rolled up again").await;
}

#[tokio::test]
async fn reports_are_for_operators_and_name_each_bad_parameter() {
    let joule = Joule::platform().await;
    let path = "/api/v1/reports/utilization?from=2026-03-02&to=2026-03-03";
    let (status, body) = get_as(&joule.driver("driver-ada"), &joule, path).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = read(client().get(joule.url(path)).send().await.unwrap()).await;
    assert_eq!(status, 401);
    let (status, body) = get(&joule, path).await;
    assert_eq!((status, &body), (200, &json!({ "from": "2026-03-02", "to": "2026-03-03", "items": [] })));

    let bad = |path: &'static str, details: Value| {
        let joule = &joule;
        async move {
            let (status, body) = get(joule, path).await;
            assert_eq!((status, body["error"]["code"].as_str()), (422, Some("validation_failed")), "{path}: {body}");
            assert_eq!(body["error"]["details"], details, "{path}");
        }
    };
    let date = "must be a date written YYYY-MM-DD, such as \"2026-11-23\"";
    bad("/api/v1/reports/utilization", json!({ "from": "is required", "to": "is required" })).await;
    bad(
        "/api/v1/reports/utilization?from=2026-3-2&to=tomorrow&stationId=42",
        json!({ "from": date, "to": date, "stationId": "must be a station's id, a UUID" }),
    )
    .await;
    bad("/api/v1/reports/energy?from=2026-03-03&to=2026-03-02", json!({ "to": "must not be before from" })).await;
    bad("/api/v1/reports/energy?from=2025-01-01&to=2026-01-03", json!({ "to": "must be at most 366 days after from" })).await;
    bad(
        "/api/v1/reports/revenue?from=2026-03-02&to=2026-03-02&currency=euro&limit=5",
        json!({ "currency": "must be a three-letter ISO 4217 code, such as \"EUR\"", "limit": "is not a parameter of this report" }),
    )
    .await;
    bad(
        "/api/v1/reports/utilization?from=2026-03-02&to=2026-03-02&currency=EUR&from=2026-03-01",
        json!({ "currency": "is not a parameter of this report", "from": "must be given once" }),
    )
    .await;

    // An empty report as CSV is its header; an unknown report is a JSON 404.
    let csv =
        joule.operator().get(joule.url("/api/v1/reports/revenue?from=2026-03-02&to=2026-03-02")).header("accept", "text/csv");
    let text = csv.send().await.unwrap().text().await.unwrap();
    assert_eq!(text, "day,stationId,stationName,currency,invoices,invoicedExclVat,invoicedInclVat,paid\r\n");
    let (status, body) = get(&joule, "/api/v1/reports/occupancy?from=2026-03-02&to=2026-03-02").await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
}
