//! The EV platform's fixtures: DOMAIN.md's worked-example tariff, a station that uses it,
//! and times on a coming Monday in the station's zone. The helpers act as the operator
//! ([`Joule::operator`]), who may do anything; the `_as` forms take the client to act as.

use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike as _, NaiveTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::{Joule, read, send_json};

/// The stations' zone: a fixed UTC+9, so local times need no daylight-saving rules here,
/// while the pricing rule still has to convert to local time to get the windows right.
pub const TIME_ZONE: &str = "Asia/Tokyo";
const UTC_OFFSET_HOURS: i64 = 9;

/// DOMAIN.md's worked example, all at 20% VAT.
pub fn worked_example_tariff() -> Value {
    json!({
        "name": "AC standard",
        "currency": "EUR",
        "elements": [
            { "priceComponents": [{ "type": "FLAT", "price": "0.50", "vat": "20" }] },
            { "priceComponents": [{ "type": "ENERGY", "price": "0.30", "vat": "20" }],
              "restrictions": { "startTime": "17:00", "endTime": "21:00",
                                "dayOfWeek": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"] } },
            { "priceComponents": [{ "type": "ENERGY", "price": "0.25", "vat": "20" }] },
            { "priceComponents": [{ "type": "PARKING_TIME", "price": "6.00", "vat": "20", "stepSize": 300 }] }
        ]
    })
}

pub fn station(tariff_id: &str) -> Value {
    json!({
        "name": "Harbour Hub",
        "location": { "lat": 35.6544, "lng": 139.7480 },
        "timeZone": TIME_ZONE,
        "tariffId": tariff_id,
        "connectors": [
            { "connectorId": "1", "type": "Type2", "maxPowerKw": 22 },
            { "connectorId": "2", "type": "CCS2", "maxPowerKw": 150 }
        ]
    })
}

/// A Monday at least a day ahead, so bookings on it are in the future.
pub struct Monday(chrono::NaiveDate);

impl Monday {
    pub fn coming() -> Self {
        let today = (Utc::now() + TimeDelta::hours(UTC_OFFSET_HOURS)).date_naive();
        let ahead = 7 - i64::from(today.weekday().num_days_from_monday());
        Self(today + TimeDelta::days(ahead.max(1)))
    }

    /// The Monday `weeks` after the coming one, for slots no other booking has touched.
    pub fn coming_plus_weeks(weeks: u32) -> Self {
        Self(Self::coming().0 + TimeDelta::weeks(i64::from(weeks)))
    }

    /// `"HH:MM"` local time on this Monday, as a UTC instant.
    pub fn at(&self, local: &str) -> DateTime<Utc> {
        let time = NaiveTime::parse_from_str(local, "%H:%M").expect("HH:MM");
        self.0.and_time(time).and_utc() - TimeDelta::hours(UTC_OFFSET_HOURS)
    }

    /// The same, as the API's RFC 3339 text.
    pub fn text(&self, local: &str) -> String {
        self.at(local).to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// Creates the worked-example tariff; returns its id.
pub async fn create_tariff(joule: &Joule) -> String {
    let (status, tariff) = send_json(joule.operator().post(joule.url("/api/v1/tariffs")), &worked_example_tariff()).await;
    assert_eq!(status, 201, "{tariff}");
    tariff["id"].as_str().expect("tariff id").to_string()
}

/// Creates a station on `tariff_id`; returns its id.
pub async fn create_station(joule: &Joule, tariff_id: &str) -> String {
    let (status, station) = send_json(joule.operator().post(joule.url("/api/v1/stations")), &station(tariff_id)).await;
    assert_eq!(status, 201, "{station}");
    station["id"].as_str().expect("station id").to_string()
}

pub fn booking(station: &str, connector: &str, driver: &str, starts_at: &str, ends_at: &str) -> Value {
    json!({ "stationId": station, "connectorId": connector, "driverId": driver, "startsAt": starts_at, "endsAt": ends_at })
}

/// Books, once the reservations component has heard of the station (its copy is kept
/// from `station.created.v1`, so a booking right after creating one may name no station yet).
pub async fn book(joule: &Joule, booking: &Value) -> (u16, Value) {
    book_as(&joule.operator(), joule, booking).await
}

/// [`book`], as whoever `http` acts for.
pub async fn book_as(http: &reqwest::Client, joule: &Joule, booking: &Value) -> (u16, Value) {
    let started = Instant::now();
    loop {
        let answer = send_json(http.post(joule.url("/api/v1/reservations")), booking).await;
        let station_unknown = answer.0 == 422 && answer.1["error"]["details"]["stationId"].is_string();
        if !station_unknown || started.elapsed() > Duration::from_secs(60) {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// GETs `path` and returns the status and body.
pub async fn get(joule: &Joule, path: &str) -> (u16, Value) {
    get_as(&joule.operator(), joule, path).await
}

/// [`get`], as whoever `http` acts for.
pub async fn get_as(http: &reqwest::Client, joule: &Joule, path: &str) -> (u16, Value) {
    read(http.get(joule.url(path)).send().await.expect("GET")).await
}

/// Stops a session at `stopped_at` with `meter_stop_wh`, and waits for billing's invoice.
pub async fn stop_and_invoice(joule: &Joule, session_id: &str, meter_stop_wh: u64, stopped_at: &str) -> Value {
    let stop = serde_json::json!({ "meterStopWh": meter_stop_wh, "stoppedAt": stopped_at });
    let url = joule.url(&format!("/api/v1/sessions/{session_id}/stop"));
    let (status, stopped) = crate::send_json(joule.operator().post(url), &stop).await;
    assert_eq!(status, 200, "stopping the session: {stopped}");
    let by_session = format!("/api/v1/invoices?sessionId={session_id}");
    crate::eventually("the invoice", || async { get(joule, &by_session).await.1["items"].as_array().is_some_and(|i| !i.is_empty()) })
        .await;
    get(joule, &by_session).await.1["items"][0].clone()
}

/// The password the EV tests give their charge points.
pub const OCPP_PASSWORD: &str = "correct-horse-battery";

/// Creates a station on `tariff_id` with the `ocpp` settings given; returns its id.
pub async fn create_ocpp_station(joule: &Joule, tariff_id: &str, ocpp: Value) -> String {
    let mut body = station(tariff_id);
    body["ocpp"] = ocpp;
    let (status, created) = send_json(joule.operator().post(joule.url("/api/v1/stations")), &body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("station id").to_string()
}

/// `PUT /stations/{id}/ocpp-password` as whoever `http` acts for.
pub async fn set_ocpp_password(http: &reqwest::Client, joule: &Joule, station: &str, password: &str) -> (u16, Value) {
    let url = joule.url(&format!("/api/v1/stations/{station}/ocpp-password"));
    send_json(http.put(url), &json!({ "password": password })).await
}

/// A station whose charge point `charge_point_id` may connect with [`OCPP_PASSWORD`], once
/// the reservations component's copy holds it (sessions start against that copy).
pub async fn charge_point_station(joule: &Joule, tariff_id: &str, charge_point_id: &str) -> String {
    let id = create_ocpp_station(joule, tariff_id, json!({ "chargePointId": charge_point_id })).await;
    assert_eq!(set_ocpp_password(&joule.operator(), joule, &id, OCPP_PASSWORD).await.0, 204);
    // A start on a connector the station lacks names the connector once the copy has the
    // station, and the station before: a probe that changes nothing.
    let probe = json!({ "stationId": id, "connectorId": "no-such-connector", "driverId": "probe", "meterStartWh": 0 });
    crate::eventually("the reservations' copy of the station", || async {
        let (status, body) = send_json(joule.operator().post(joule.url("/api/v1/sessions")), &probe).await;
        status == 422 && body["error"]["details"]["connectorId"].is_string()
    })
    .await;
    id
}

/// The invoice's line for `dimension`.
pub fn invoice_line<'a>(invoice: &'a Value, dimension: &str) -> &'a Value {
    invoice["lines"]
        .as_array()
        .and_then(|lines| lines.iter().find(|l| l["dimension"] == dimension))
        .unwrap_or_else(|| panic!("no {dimension} line in {invoice}"))
}

/// Asserts the invoice is DOMAIN.md's worked example: 0.50 flat, 3.565 of energy, 25 minutes
/// of parking at 6.00 an hour; 6.565 (6.57) excluding VAT, 7.878 (7.88) including it.
pub fn assert_worked_example_invoice(invoice: &Value) {
    assert_eq!(invoice["currency"], "EUR", "{invoice}");
    assert_eq!(invoice["lines"].as_array().map(Vec::len), Some(3), "{invoice}");
    let expected = [("FLAT", "0.5000", "0.6000"), ("ENERGY", "3.5650", "4.2780"), ("PARKING_TIME", "2.5000", "3.0000")];
    for (dimension, excl, incl) in expected {
        let line = invoice_line(invoice, dimension);
        assert_eq!((line["amountExclVat"].as_str(), line["amountInclVat"].as_str()), (Some(excl), Some(incl)), "{line}");
    }
    assert_eq!(invoice_line(invoice, "PARKING_TIME")["volume"], "0.4167", "22 minutes rounded up to 25: {invoice}");
    assert_eq!((invoice["totalExclVat"].as_str(), invoice["totalInclVat"].as_str()), (Some("6.57"), Some("7.88")), "{invoice}");
}

/// The driver's invoices, once there are at least `count`.
pub async fn invoices_of(joule: &Joule, driver: &str, count: usize) -> Vec<Value> {
    let path = format!("/api/v1/invoices?driverId={driver}");
    crate::eventually(&format!("{count} invoice(s) of {driver}"), || async {
        get(joule, &path).await.1["items"].as_array().is_some_and(|items| items.len() >= count)
    })
    .await;
    get(joule, &path).await.1["items"].as_array().cloned().unwrap_or_default()
}
