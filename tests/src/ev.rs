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
