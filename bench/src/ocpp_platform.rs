//! The OCPP fleet against the EV platform's own components (`spin.toml`, embedded): each
//! generated charge point is a station with a password (argon2id), so stations answers its
//! BootNotification and Heartbeats; the metering tenth start a transaction for one driver's
//! RFID tag, so reservations records their MeterValues on a session.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::host::Host;
use crate::ocpp::{CHARGE_POINTS, PASSWORD, charge_point_id};

/// The RFID tag the metering charge points start their transactions with.
pub const ID_TAG: &str = "BENC4ED1";

/// Threads creating stations at once: setting a password hashes it, which takes a while.
const PROVISIONING_THREADS: u32 = 8;

/// Creates a tariff, a station per generated charge point with its password, and a driver
/// with [`ID_TAG`]; returns once the sessions' copies hold them all.
pub fn provision(host: &Host, joule: &std::path::Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let operator = host.token(joule, "bench-operator", &["operator"])?;
    let driver = host.token(joule, "bench-driver", &["driver"])?;
    let tariff = json!({ "currency": "EUR", "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": "0.30", "vat": "20" }] }] });
    let tariff_id = created(host.request_as(&operator, "POST", "/api/v1/tariffs", &tariff), "the tariff")?;
    created(host.request_as(&driver, "POST", "/api/v1/me/tokens", &json!({ "type": "RFID", "uid": ID_TAG })), "the tag")?;
    let stations: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PROVISIONING_THREADS)
            .map(|worker| {
                let (operator, tariff_id) = (&operator, &tariff_id);
                scope.spawn(move || {
                    (worker..CHARGE_POINTS)
                        .step_by(PROVISIONING_THREADS as usize)
                        .map(|index| station(host, operator, tariff_id, &charge_point_id(index)))
                        .collect::<anyhow::Result<Vec<String>>>()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a provisioning thread")).collect::<anyhow::Result<Vec<_>>>()
    })?
    .into_iter()
    .flatten()
    .collect();
    // The sessions' copy of the last station: a start on a connector it lacks names the
    // connector once the copy holds the station.
    let last = stations.last().context("no station")?;
    let probe = json!({ "stationId": last, "connectorId": "none", "driverId": "bench-driver", "meterStartWh": 0 });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, body) = host.request_as(&operator, "POST", "/api/v1/sessions", &probe)?;
        if status == 422 && body.contains("connectorId") {
            break;
        }
        if Instant::now() > deadline {
            bail!("the sessions' copy did not get the stations within 2 minutes: {status} {body}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(started.elapsed())
}

/// One station for charge point `id`, with its password; returns the station's id.
fn station(host: &Host, operator: &str, tariff_id: &str, id: &str) -> anyhow::Result<String> {
    let body = json!({
        "name": id, "location": { "lat": 52.37, "lng": 4.89 }, "timeZone": "Europe/Amsterdam", "tariffId": tariff_id,
        "connectors": [{ "connectorId": "1", "type": "Type2", "maxPowerKw": 22 }],
        "ocpp": { "chargePointId": id, "protocol": "ocpp1.6" }
    });
    let station = created(retrying(|| host.request_as(operator, "POST", "/api/v1/stations", &body)), id)?;
    let path = format!("/api/v1/stations/{station}/ocpp-password");
    let (status, answer) = retrying(|| host.request_as(operator, "PUT", &path, &json!({ "password": PASSWORD })))?;
    if status != 204 {
        bail!("setting {id}'s password failed ({status}): {answer}");
    }
    Ok(station)
}

/// A request sent again while it is answered 503, as the answer asks (a write that met
/// another on the embedded database), up to ten times.
fn retrying(mut send: impl FnMut() -> anyhow::Result<(u16, String)>) -> anyhow::Result<(u16, String)> {
    for _ in 0..10 {
        match send()? {
            (503, _) => std::thread::sleep(Duration::from_millis(20)),
            answer => return Ok(answer),
        }
    }
    send()
}

/// The `id` of what a 201 answer created.
fn created(answer: anyhow::Result<(u16, String)>, what: &str) -> anyhow::Result<String> {
    let (status, body) = answer?;
    if status != 201 {
        bail!("creating {what} failed ({status}): {body}");
    }
    let value: Value = serde_json::from_str(&body)?;
    Ok(value["id"].as_str().or_else(|| value["uid"].as_str()).unwrap_or_default().to_string())
}
