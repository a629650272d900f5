//! Hostile input (numbers past every type, NUL and other control characters, dates at the ends
//! of time, lists far too long) gets a 4xx in the contract's error shape naming each bad
//! field, the same on every backend, and never a 5xx; what was stored stays as it was.

use chrono::{SecondsFormat, TimeDelta, Utc};
use joule_tests::ev::{self, Monday, book, booking, get};
use joule_tests::{Joule, eventually, read, send_json};
use serde_json::{Value, json};

const MISSING: &str = "01a201af-0000-7000-8000-000000000000";

async fn post(joule: &Joule, path: &str, body: &Value) -> (u16, Value) {
    send_json(joule.operator().post(joule.url(path)), body).await
}

/// A 422 `validation_failed` whose details name each of `fields`.
#[track_caller]
fn assert_invalid(answer: &(u16, Value), fields: &[&str]) {
    let (status, body) = answer;
    assert_eq!(*status, 422, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed", "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    for field in fields {
        assert!(body["error"]["details"][field].is_string(), "{field} not named in {body}");
    }
}

fn energy_tariff(price: Value) -> Value {
    json!({ "currency": "EUR", "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": price, "vat": "20" }] }] })
}

fn quote(tariff: Value, periods: Value) -> Value {
    json!({ "tariff": tariff, "session": { "startedAt": "2026-11-23T15:30:00Z", "timeZone": "Europe/Amsterdam", "periods": periods } })
}

fn text(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Item 1: numbers past what the pricing engine computes are a 422 naming the field, not a 502.
#[tokio::test]
async fn a_quote_with_numbers_past_the_engine_is_a_422_naming_the_field() {
    let joule = Joule::platform().await;
    let periods = json!([{ "startsAt": "2026-11-23T15:30:00Z", "endsAt": "2026-11-23T16:40:00Z", "energyWh": u64::MAX }]);
    let answer = post(&joule, "/api/v1/pricing/quote", &quote(energy_tariff(json!("79000000000000000000000000000")), periods)).await;
    assert_invalid(&answer, &["tariff.elements[0].priceComponents[0].price", "session.periods[0].energyWh"]);

    // The largest price and energy accepted are priced exactly.
    let periods = json!([{ "startsAt": "2026-11-23T15:30:00Z", "endsAt": "2026-11-23T16:40:00Z", "energyWh": 1_000_000_000u64 }]);
    let (status, priced) = post(&joule, "/api/v1/pricing/quote", &quote(energy_tariff(json!("1000000000")), periods.clone())).await;
    assert_eq!(status, 200, "{priced}");
    assert_eq!(priced["totalExclVat"], "1000000000000000.0000");
    assert_eq!(priced["totalInclVat"], "1200000000000000.0000");

    // A rule that overflows itself (surge's multiplier is the rule's to read) says so: 422.
    let mut surge = energy_tariff(json!("1000000000"));
    surge["rule"] = json!("surge");
    surge["ruleOptions"] = json!({ "multiplier": "79000000000000000000000000000", "startTime": "00:00", "endTime": "23:59" });
    assert_invalid(&post(&joule, "/api/v1/pricing/quote", &quote(surge, periods)).await, &["tariff"]);

    // Every magnitude of a tariff is bounded, named field by field.
    let tariff = json!({
        "currency": "EUR",
        "minPrice": { "exclVat": "1e30" }, "maxPrice": { "exclVat": 1e300, "inclVat": "-1" },
        "elements": [{ "priceComponents": [{ "type": "TIME", "price": "0.5", "vat": "100.5", "stepSize": 4_294_967_296u64 }],
                       "restrictions": { "minKwh": "79000000000000000000000000000", "maxPower": "1e9",
                                         "minDuration": u64::MAX, "maxDuration": -1 } }]
    });
    let answer = post(&joule, "/api/v1/tariffs", &tariff).await;
    assert_invalid(&answer, &[
        "minPrice.exclVat",
        "maxPrice.exclVat",
        "maxPrice.inclVat",
        "elements[0].priceComponents[0].vat",
        "elements[0].priceComponents[0].stepSize",
        "elements[0].restrictions.minKwh",
        "elements[0].restrictions.maxPower",
        "elements[0].restrictions.minDuration",
        "elements[0].restrictions.maxDuration",
    ]);
}

/// Item 2: a session from year 1 to 9999 is refused at once, naming the field; so are too many periods.
#[tokio::test]
async fn a_quote_spanning_millennia_or_too_many_periods_is_a_422() {
    let joule = Joule::platform().await;
    let tariff = energy_tariff(json!("0.25"));
    let forever = json!({ "tariff": tariff, "session": { "startedAt": "0001-01-01T00:00:00Z", "timeZone": "UTC",
        "periods": [{ "startsAt": "0001-01-01T00:00:00Z", "endsAt": "9999-12-31T23:59:59Z", "energyWh": 1000 }] } });
    let started = std::time::Instant::now();
    assert_invalid(&post(&joule, "/api/v1/pricing/quote", &forever).await, &["session.periods[0].endsAt"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "refused up front, in {:?}", started.elapsed());

    let parked = json!({ "tariff": tariff, "session": { "startedAt": "2026-11-23T15:30:00Z", "timeZone": "UTC",
        "unpluggedAt": "2026-12-24T15:30:01Z" } });
    assert_invalid(&post(&joule, "/api/v1/pricing/quote", &parked).await, &["session.unpluggedAt"]);
    let late = json!({ "tariff": tariff, "session": { "startedAt": "9999-12-31T23:00:00-05:00", "timeZone": "UTC" } });
    assert_invalid(&post(&joule, "/api/v1/pricing/quote", &late).await, &["session.startedAt"]);

    let period = |i: i64| {
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-23T15:30:00Z").unwrap().with_timezone(&Utc) + TimeDelta::minutes(i);
        json!({ "startsAt": text(start), "endsAt": text(start + TimeDelta::minutes(1)), "energyWh": 100 })
    };
    let periods = |count: i64| Value::Array((0..count).map(period).collect());
    assert_invalid(&post(&joule, "/api/v1/pricing/quote", &quote(tariff.clone(), periods(1001))).await, &["session.periods"]);
    // The most periods, over the longest session, are priced.
    let mut longest = quote(tariff, periods(1000));
    longest["session"]["unpluggedAt"] = json!("2026-12-24T15:30:00Z");
    let (status, priced) = post(&joule, "/api/v1/pricing/quote", &longest).await;
    assert_eq!(status, 200, "{priced}");
    assert_eq!(priced["totalExclVat"], "25.0000");
}

/// Item 3: a tariff whose event would pass the 256 KiB limit is a 422, not a 500; the largest
/// valid one is stored and its event published.
#[tokio::test]
async fn tariffs_and_stations_too_large_for_their_events_are_a_422() {
    let joule = Joule::platform().await;
    let element = json!({ "priceComponents": [{ "type": "ENERGY", "price": "0.25" }] });
    let huge = json!({ "currency": "EUR", "elements": vec![element; 10_000] });
    let answer = post(&joule, "/api/v1/tariffs", &huge).await;
    assert_invalid(&answer, &["elements"]);
    assert_eq!(answer.1["error"]["details"].as_object().unwrap().len(), 1, "one problem, not one per element");

    // The largest valid tariff: 100 elements of 8 components, every decimal 40 characters.
    let long = format!("1.{}", "0".repeat(38));
    let component = json!({ "type": "ENERGY", "price": long, "vat": long, "stepSize": 1_000_000 });
    let element = json!({ "priceComponents": vec![component.clone(); 8], "restrictions": {
        "startTime": "17:00", "endTime": "21:00", "startDate": "2026-01-01", "endDate": "2027-01-01",
        "minKwh": long, "maxKwh": long, "minPower": long, "maxPower": long, "minDuration": 2_678_400, "maxDuration": 2_678_400,
        "dayOfWeek": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"] } });
    let largest = json!({ "name": "\"".repeat(200), "currency": "EUR", "ruleOptions": { "o": "x".repeat(4000) },
                          "elements": vec![element.clone(); 100] });
    let (status, stored) = post(&joule, "/api/v1/tariffs", &largest).await;
    assert_eq!(status, 201, "{stored}");
    let id = stored["id"].as_str().unwrap();
    let (status, updated) = send_json(joule.operator().put(joule.url(&format!("/api/v1/tariffs/{id}"))), &largest).await;
    assert_eq!(status, 200, "{updated}");

    let mut crowded = largest.clone();
    crowded["elements"][0]["priceComponents"] = json!(vec![component; 9]);
    crowded["elements"][1]["restrictions"]["dayOfWeek"] = json!(vec!["MONDAY"; 8]);
    crowded["name"] = json!("n".repeat(201));
    crowded["ruleOptions"] = json!({ "o": "x".repeat(5000) });
    crowded["elements"] = {
        let mut elements = crowded["elements"].as_array().unwrap().clone();
        elements.push(element);
        Value::Array(elements)
    };
    assert_invalid(&post(&joule, "/api/v1/tariffs", &crowded).await, &["elements", "name", "ruleOptions"]);
    crowded["elements"].as_array_mut().unwrap().pop();
    assert_invalid(&post(&joule, "/api/v1/tariffs", &crowded).await, &[
        "elements[0].priceComponents",
        "elements[1].restrictions.dayOfWeek",
    ]);
    // A rule nobody deployed could price nothing, and would leave sessions on it no rule to pin.
    let mut undeployed = ev::worked_example_tariff();
    undeployed["rule"] = json!("nobody-deployed-this");
    assert_invalid(&post(&joule, "/api/v1/tariffs", &undeployed).await, &["rule"]);
    assert_invalid(&send_json(joule.operator().put(joule.url(&format!("/api/v1/tariffs/{id}"))), &undeployed).await, &["rule"]);
    let (_, kept) = get(&joule, &format!("/api/v1/tariffs/{id}")).await;
    assert_eq!(kept["version"], 2, "the bad requests changed nothing");

    // A station with more connectors than it may hold.
    let mut station = ev::station(MISSING);
    let connector = json!({ "connectorId": "1", "type": "CCS2", "maxPowerKw": 50 });
    station["connectors"] = json!(vec![connector; 10_000]);
    station["address"] = json!("a".repeat(501));
    let answer = post(&joule, "/api/v1/stations", &station).await;
    assert_invalid(&answer, &["connectors", "address"]);
}

/// Item 4: NUL, and other control characters, are a 422 naming the field on both backends,
/// in bodies and in query parameters; nothing is stored.
#[tokio::test]
async fn nul_and_control_characters_are_refused_in_every_field_and_parameter() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let (status, _) = book(&joule, &booking(&station, "2", "driver-n", &monday.text("08:00"), &monday.text("09:00"))).await;
    assert_eq!(status, 201);

    let mut named = ev::station(&tariff);
    named["name"] = json!("Harbour\u{0}Hub");
    assert_invalid(&post(&joule, "/api/v1/stations", &named).await, &["name"]);
    named["name"] = json!("Harbour Hub");
    named["address"] = json!("Pier 1\u{0}");
    named["tariffId"] = json!("\u{1b}[31m");
    assert_invalid(&post(&joule, "/api/v1/stations", &named).await, &["address", "tariffId"]);
    let path = format!("/api/v1/stations/{station}");
    assert_invalid(&send_json(joule.operator().patch(joule.url(&path)), &json!({ "name": "\u{0}" })).await, &["name"]);
    let status_path = format!("{path}/connectors/1/status");
    assert_invalid(&send_json(joule.operator().put(joule.url(&status_path)), &json!({ "status": "Available\u{0}" })).await, &["status"]);

    let mut named_tariff = ev::worked_example_tariff();
    named_tariff["name"] = json!("night\u{0}rate");
    assert_invalid(&post(&joule, "/api/v1/tariffs", &named_tariff).await, &["name"]);
    named_tariff["name"] = json!("night rate");
    named_tariff["ruleOptions"] = json!({ "note": "a\u{0}b", "k\u{0}": 1 });
    assert_invalid(&post(&joule, "/api/v1/tariffs", &named_tariff).await, &["ruleOptions.note", "ruleOptions.k\\0"]);
    let tariff_path = format!("/api/v1/tariffs/{tariff}");
    assert_invalid(&send_json(joule.operator().put(joule.url(&tariff_path)), &named_tariff).await, &["ruleOptions.note"]);
    let answer = post(&joule, "/api/v1/pricing/quote", &json!({ "tariffId": tariff,
        "session": { "startedAt": "2026-11-23T15:30:00Z", "timeZone": "Europe/Amsterdam\u{0}" } })).await;
    assert_invalid(&answer, &["session.timeZone"]);

    let nul_driver = booking(&station, "1", "driver\u{0}", &monday.text("10:00"), &monday.text("11:00"));
    assert_invalid(&post(&joule, "/api/v1/reservations", &nul_driver).await, &["driverId"]);
    let start = json!({ "stationId": station, "connectorId": "1", "driverId": "\u{0}", "meterStartWh": 0 });
    assert_invalid(&post(&joule, "/api/v1/sessions", &start).await, &["driverId"]);
    let pay = format!("/api/v1/invoices/{MISSING}/pay");
    assert_invalid(&post(&joule, &pay, &json!({ "simulate": "fail\u{0}" })).await, &["simulate"]);

    for (path, parameter) in [
        ("/api/v1/reservations?driverId=%00", "driverId"),
        ("/api/v1/reservations?driverId=d&cursor=%00", "cursor"),
        ("/api/v1/invoices?driverId=%00", "driverId"),
        ("/api/v1/invoices?sessionId=%07", "sessionId"),
        ("/api/v1/notifications?recipient=%00", "recipient"),
        ("/api/v1/stations?limit=%00", "limit"),
    ] {
        assert_invalid(&get(&joule, path).await, &[parameter]);
    }
    assert_invalid(&get(&joule, &format!("{tariff_path}?version=1%00")).await, &["version"]);

    // Free text may still hold line breaks; nothing refused was stored.
    named["address"] = json!("Pier 1\nAmsterdam");
    named["tariffId"] = json!(tariff);
    let (status, created) = post(&joule, "/api/v1/stations", &named).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["address"], "Pier 1\nAmsterdam");
    let (_, listed) = get(&joule, "/api/v1/stations").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(get(&joule, &path).await.1["name"], "Harbour Hub");
    let (_, reservations) = get(&joule, "/api/v1/reservations?driverId=driver-n").await;
    assert_eq!(reservations["items"].as_array().unwrap().len(), 1);
}

/// Item 5: a booking's length and lead are bounded, by default and by the variables.
#[tokio::test]
async fn a_reservation_is_bounded_in_length_and_lead() {
    let joule = Joule::platform().await;
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let now = Utc::now() + TimeDelta::minutes(5);
    let (status, _) = book(&joule, &booking(&station, "2", "driver-w", &text(now), &text(now + TimeDelta::hours(1)))).await;
    assert_eq!(status, 201, "the replica knows the station");

    let forever = booking(&station, "1", "driver-f", &text(now), "9999-12-31T23:59:59Z");
    let answer = post(&joule, "/api/v1/reservations", &forever).await;
    assert_invalid(&answer, &["endsAt"]);
    assert_eq!(answer.1["error"]["details"]["endsAt"], "must be at most 1440 minutes after startsAt");
    let far = booking(&station, "1", "driver-f", "9999-12-30T00:00:00Z", "9999-12-30T01:00:00Z");
    assert_eq!(post(&joule, "/api/v1/reservations", &far).await.1["error"]["details"]["startsAt"], "must be at most 90 days ahead");
    let past_the_end = booking(&station, "1", "driver-f", &text(now), "9999-12-31T23:00:00-05:00");
    assert_invalid(&post(&joule, "/api/v1/reservations", &past_the_end).await, &["endsAt"]);
    let ahead = now + TimeDelta::days(91);
    assert_invalid(&post(&joule, "/api/v1/reservations", &booking(&station, "1", "d", &text(ahead), &text(ahead + TimeDelta::hours(1)))).await, &["startsAt"]);
    let long = booking(&station, "1", "d", &text(now), &text(now + TimeDelta::minutes(1441)));
    assert_invalid(&post(&joule, "/api/v1/reservations", &long).await, &["endsAt"]);

    // The longest booking, as far ahead as allowed, is fine; and the connector is still free now.
    let latest = now + TimeDelta::days(89);
    let (status, body) = post(&joule, "/api/v1/reservations", &booking(&station, "1", "driver-f", &text(latest), &text(latest + TimeDelta::days(1)))).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = post(&joule, "/api/v1/reservations", &booking(&station, "1", "driver-g", &text(now), &text(now + TimeDelta::hours(2)))).await;
    assert_eq!(status, 201, "nothing refused blocks the connector: {body}");
}

#[tokio::test]
async fn the_booking_bounds_are_variables() {
    let joule = Joule::with("spin.toml")
        .env("JOULE_VARIABLE_MAX_BOOKING_MINUTES", "60")
        .env("JOULE_VARIABLE_MAX_BOOKING_LEAD_DAYS", "2")
        .ready()
        .await;
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let now = Utc::now() + TimeDelta::minutes(5);
    let (status, _) = book(&joule, &booking(&station, "1", "d", &text(now), &text(now + TimeDelta::minutes(60)))).await;
    assert_eq!(status, 201);
    let two_hours = booking(&station, "2", "d", &text(now), &text(now + TimeDelta::minutes(61)));
    let answer = post(&joule, "/api/v1/reservations", &two_hours).await;
    assert_eq!(answer.1["error"]["details"]["endsAt"], "must be at most 60 minutes after startsAt", "{}", answer.1);
    let later = now + TimeDelta::days(3);
    let answer = post(&joule, "/api/v1/reservations", &booking(&station, "2", "d", &text(later), &text(later + TimeDelta::minutes(30)))).await;
    assert_eq!(answer.1["error"]["details"]["startsAt"], "must be at most 2 days ahead", "{}", answer.1);
}

/// Item 2 where sessions enter: meter values and stops keep a session within what billing prices.
#[tokio::test]
async fn sessions_are_bounded_in_length_readings_and_energy_and_still_invoice() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let (status, _) = book(&joule, &booking(&station, "2", "driver-s", &monday.text("06:00"), &monday.text("07:00"))).await;
    assert_eq!(status, 201);

    let mut start = json!({ "stationId": station, "connectorId": "1", "driverId": "driver-s", "meterStartWh": u64::MAX,
                            "startedAt": monday.text("10:00") });
    assert_invalid(&post(&joule, "/api/v1/sessions", &start).await, &["meterStartWh"]);
    start["meterStartWh"] = json!(1000);
    let (status, session) = post(&joule, "/api/v1/sessions", &start).await;
    assert_eq!(status, 201, "{session}");
    let id = session["id"].as_str().unwrap();
    let readings = format!("/api/v1/sessions/{id}/meter-values");
    let stop = format!("/api/v1/sessions/{id}/stop");

    let answer = post(&joule, &readings, &json!({ "timestamp": "9999-12-31T23:59:59Z", "energyWh": 2000 })).await;
    assert_invalid(&answer, &["timestamp"]);
    let answer = post(&joule, &readings, &json!({ "timestamp": monday.text("10:01"), "energyWh": u64::MAX })).await;
    assert_invalid(&answer, &["energyWh"]);
    let answer = post(&joule, &readings, &json!({ "timestamp": monday.text("10:01"), "energyWh": 1_000_001_001u64 })).await;
    assert_invalid(&answer, &["energyWh"]);
    let answer = post(&joule, &stop, &json!({ "meterStopWh": 2000, "stoppedAt": "9999-12-31T23:59:59Z" })).await;
    assert_invalid(&answer, &["stoppedAt"]);
    let answer = post(&joule, &stop, &json!({ "meterStopWh": 2000, "stoppedAt": monday.text("11:00"), "unpluggedAt": "9999-12-31T23:59:59Z" })).await;
    assert_invalid(&answer, &["unpluggedAt"]);
    let answer = post(&joule, &stop, &json!({ "meterStopWh": 9_007_199_254_740_992u64, "stoppedAt": monday.text("11:00") })).await;
    assert_invalid(&answer, &["meterStopWh"]);

    // 999 readings, the most a session holds: the thousandth is refused.
    let at = |minutes: i64| text(monday.at("10:00") + TimeDelta::seconds(minutes * 3));
    for i in 1..=999 {
        let (status, body) = post(&joule, &readings, &json!({ "timestamp": at(i), "energyWh": 1000 + i * 10 })).await;
        assert_eq!(status, 201, "reading {i}: {body}");
    }
    let answer = post(&joule, &readings, &json!({ "timestamp": at(1000), "energyWh": 20_000 })).await;
    assert_invalid(&answer, &["timestamp"]);

    // Nothing refused was stored, and the session stops and is invoiced.
    let (_, active) = get(&joule, &format!("/api/v1/sessions/{id}")).await;
    assert_eq!((active["status"].as_str(), active["meterStartWh"].as_i64()), (Some("active"), Some(1000)));
    let invoice = ev::stop_and_invoice(&joule, id, 12_000, &text(monday.at("10:00") + TimeDelta::hours(1))).await;
    assert!(invoice["totalExclVat"].is_string(), "{invoice}");
}

/// Item 6: a maximum price with only `exclVat` clamps that total and keeps the one including VAT.
#[tokio::test]
async fn a_bound_with_only_excl_vat_keeps_the_total_including_vat() {
    let joule = Joule::platform().await;
    let mut capped = ev::worked_example_tariff();
    capped["maxPrice"] = json!({ "exclVat": "2.00" });
    let session = json!({ "startedAt": "2026-11-23T15:30:00Z", "chargingEndedAt": "2026-11-23T16:40:00Z",
        "unpluggedAt": "2026-11-23T17:02:00Z", "timeZone": "Europe/Amsterdam", "periods": [
            { "startsAt": "2026-11-23T15:30:00Z", "endsAt": "2026-11-23T16:00:00Z", "energyWh": 5500 },
            { "startsAt": "2026-11-23T16:00:00Z", "endsAt": "2026-11-23T16:40:00Z", "energyWh": 7300 }] });
    let (status, priced) = post(&joule, "/api/v1/pricing/quote", &json!({ "tariff": capped, "session": session })).await;
    assert_eq!(status, 200, "{priced}");
    assert_eq!(priced["totalExclVat"], "2.0000", "{priced}");
    assert_eq!(priced["totalInclVat"], "7.8780", "as priced, never null: {priced}");

    // The same through billing: the invoice has both totals.
    let (status, stored) = post(&joule, "/api/v1/tariffs", &capped).await;
    assert_eq!(status, 201, "{stored}");
    let station = ev::create_station(&joule, stored["id"].as_str().unwrap()).await;
    let monday = Monday::coming();
    let (status, _) = book(&joule, &booking(&station, "2", "driver-v", &monday.text("06:00"), &monday.text("07:00"))).await;
    assert_eq!(status, 201);
    let start = json!({ "stationId": station, "connectorId": "1", "driverId": "driver-v", "meterStartWh": 0, "startedAt": monday.text("10:00") });
    let (status, session) = post(&joule, "/api/v1/sessions", &start).await;
    assert_eq!(status, 201, "{session}");
    let invoice = ev::stop_and_invoice(&joule, session["id"].as_str().unwrap(), 10_000, &monday.text("11:00")).await;
    assert_eq!(invoice["totalExclVat"], "2.00", "{invoice}");
    assert_eq!(invoice["totalInclVat"], "3.60", "0.50 flat and 10 kWh at 0.25, with 20% VAT, as priced: {invoice}");
}

/// What a fuzzer sends to every field: the answer is a 4xx in the contract's shape, never a 5xx.
#[tokio::test]
async fn hostile_values_in_every_field_never_give_a_5xx() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let (status, _) = book(&joule, &booking(&station, "2", "driver-h", &monday.text("06:00"), &monday.text("07:00"))).await;
    assert_eq!(status, 201);
    let start = json!({ "stationId": station, "connectorId": "1", "driverId": "driver-h", "meterStartWh": 0, "startedAt": monday.text("10:00") });
    let (status, session) = post(&joule, "/api/v1/sessions", &start).await;
    assert_eq!(status, 201, "{session}");
    let session_id = session["id"].as_str().unwrap().to_string();

    let hostile: Vec<Value> = vec![
        json!(u64::MAX),
        json!(-9_223_372_036_854_775_808i64),
        json!(1e308),
        json!(-1e308),
        json!(5e-324),
        json!("79228162514264337593543950336"),
        json!("\u{0}"),
        json!("x".repeat(100_000)),
        json!("9999-12-31T23:59:59-23:59"),
        json!("0000-01-01T00:00:00+23:59"),
        json!([]),
        json!({}),
    ];
    let bodies: Vec<(&str, String, Value)> = vec![
        ("POST", "/api/v1/stations".into(), ev::station(&tariff)),
        ("PATCH", format!("/api/v1/stations/{station}"), ev::station(&tariff)),
        ("POST", "/api/v1/tariffs".into(), ev::worked_example_tariff()),
        ("PUT", format!("/api/v1/tariffs/{tariff}"), ev::worked_example_tariff()),
        ("POST", "/api/v1/reservations".into(), booking(&station, "1", "d", &monday.text("12:00"), &monday.text("13:00"))),
        ("POST", "/api/v1/sessions".into(), json!({ "stationId": station, "connectorId": "2", "driverId": "d", "meterStartWh": 0, "startedAt": monday.text("10:00") })),
        ("POST", format!("/api/v1/sessions/{session_id}/meter-values"), json!({ "timestamp": monday.text("10:30"), "energyWh": 100 })),
        ("POST", format!("/api/v1/sessions/{session_id}/stop"), json!({ "meterStopWh": 200, "stoppedAt": monday.text("11:00") })),
        ("POST", "/api/v1/pricing/quote".into(), json!({ "tariffId": tariff, "session": { "startedAt": "2026-11-23T15:30:00Z", "timeZone": "UTC",
            "periods": [{ "startsAt": "2026-11-23T15:30:00Z", "endsAt": "2026-11-23T16:30:00Z", "energyWh": 100 }] } })),
    ];
    // Every leaf of each body, in turn, replaced by each hostile value.
    fn leaves(value: &Value, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            Value::Object(fields) => fields.iter().for_each(|(k, v)| leaves(v, [path.clone(), vec![k.clone()]].concat(), out)),
            Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| leaves(v, [path.clone(), vec![i.to_string()]].concat(), out)),
            _ => out.push(path),
        }
    }
    fn replace(value: &mut Value, path: &[String], with: &Value) {
        let target = path.iter().fold(value, |v, key| match v {
            Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
            other => &mut other[key.as_str()],
        });
        *target = with.clone();
    }
    for (method, path, body) in &bodies {
        let mut paths = Vec::new();
        leaves(body, Vec::new(), &mut paths);
        for field in &paths {
            for value in &hostile {
                let mut sent = body.clone();
                replace(&mut sent, field, value);
                let request = joule.operator().request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), joule.url(path));
                let (status, answer) = send_json(request, &sent).await;
                let what = format!("{method} {path} with {} = {}", field.join("."), value.to_string().chars().take(60).collect::<String>());
                assert!(status < 500, "{what}: {status} {answer}");
                if status >= 400 {
                    assert!(answer["error"]["code"].is_string() && answer["error"]["message"].is_string(), "{what}: {answer}");
                }
            }
        }
    }
    for query in [
        "/api/v1/stations?limit=18446744073709551616",
        "/api/v1/stations?cursor=djE6AAAA",
        &format!("/api/v1/tariffs/{tariff}?version=99999999999999999999"),
        &format!("/api/v1/tariffs/{tariff}?version=2147483648"),
        &format!("/api/v1/tariffs/{tariff}?version=2147483647"),
        "/api/v1/reservations?driverId=d&limit=-1",
        &format!("/api/v1/reservations?driverId={}", "x".repeat(10_000)),
        "/api/v1/invoices?sessionId=%FF%FE",
        "/api/v1/notifications?recipient=r&cursor=%F0%9F%92%A9",
    ] {
        let (status, answer) = read(joule.operator().get(joule.url(query)).send().await.unwrap()).await;
        assert!(status < 500, "{query}: {status} {answer}");
    }
    // What was stored is still there and intact, and the session still prices.
    let (_, stored) = get(&joule, &format!("/api/v1/tariffs/{tariff}")).await;
    assert_eq!(stored["elements"], ev::worked_example_tariff()["elements"], "{stored}");
    eventually("the host still serves", || async { get(&joule, "/api/v1/stations").await.0 == 200 }).await;
}
