//! `/api/v1/sessions`: charging sessions, their meter readings, and their end.

use chrono::{DateTime, Utc};
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Problems, Reader};
use joule_sdk::db::{self, Row};
use joule_sdk::pricing;
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::limits::{self, MAX_READINGS, MAX_REGISTER_WH};
use crate::connectors::{self, TariffCopy};
use crate::expiry;

type Result<T = Response> = std::result::Result<T, ApiError>;

const COLUMNS: &str = "id, station_id, connector_id, driver_id, reservation_id, status, meter_start_wh, meter_stop_wh, \
                       started_at, stopped_at, unplugged_at, time_zone, tariff_id, tariff_version, rule, rule_version";

/// Connector statuses a session cannot start on.
const OUT_OF_SERVICE: [&str; 2] = ["Faulted", "Unavailable"];

fn time(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(api::time)
}

fn session(row: Row<'_>) -> std::result::Result<Value, db::Error> {
    let start: i64 = row.get("meter_start_wh")?;
    let stop: Option<i64> = row.get("meter_stop_wh")?;
    Ok(json!({
        "id": row.get::<Uuid>("id")?,
        "stationId": row.get::<Uuid>("station_id")?,
        "connectorId": row.get::<String>("connector_id")?,
        "driverId": row.get::<String>("driver_id")?,
        "reservationId": row.get::<Option<Uuid>>("reservation_id")?,
        "status": row.get::<String>("status")?,
        "meterStartWh": start,
        "meterStopWh": stop,
        "energyWh": stop.map(|stop| stop - start),
        "startedAt": time(row.get("started_at")?),
        "stoppedAt": time(row.get("stopped_at")?),
        "unpluggedAt": time(row.get("unplugged_at")?),
        "timeZone": row.get::<String>("time_zone")?,
        "tariffId": row.get::<Option<String>>("tariff_id")?,
        "tariffVersion": row.get::<Option<i64>>("tariff_version")?,
        "rule": row.get::<Option<String>>("rule")?,
        "ruleVersion": row.get::<Option<i64>>("rule_version")?,
    }))
}

fn find(id: Uuid) -> std::result::Result<Option<Value>, db::Error> {
    let rows = db::query(&format!("SELECT {COLUMNS} FROM sessions WHERE id = $1"), &[&id])?;
    rows.first().map(session).transpose()
}

/// The session, if the caller may see it: another driver's is as unknown as a missing one.
fn visible(caller: &Caller, id: Uuid) -> Result<Value> {
    caller.visible(find(id)?, |s| s["driverId"].as_str().unwrap_or_default(), "session", &id.to_string())
}

pub fn start(request: Request, _: Params) -> Result {
    let caller = Caller::require()?;
    let body = api::read_json(&request)?;
    let now = Utc::now();
    let mut problems = Problems::new();
    let reader = Reader::body(&body, &mut problems);
    reader.only(&["stationId", "connectorId", "driverId", "reservationId", "meterStartWh", "startedAt"], &mut problems);
    let station = reader.string("stationId", 36, &mut problems).map(|s| Uuid::parse_str(&s));
    let connector_id = reader.string("connectorId", 36, &mut problems);
    let driver_id = reader.optional_string("driverId", 64, &mut problems);
    let reservation = reader.optional_string("reservationId", 36, &mut problems).map(|r| r.map(|r| Uuid::parse_str(&r)));
    let meter_start = reader.whole("meterStartWh", 0, MAX_REGISTER_WH, &mut problems);
    let started_at = reader.optional_timestamp("startedAt", &mut problems).map(|at| at.unwrap_or(now));
    if matches!(station, Some(Err(_))) {
        problems.add("stationId", "names no station");
    }
    if matches!(reservation, Some(Some(Err(_)))) {
        problems.add("reservationId", "names no reservation");
    }
    problems.finish()?;
    let station = station.expect("checked").expect("checked");
    let driver_id = caller.driver_id(driver_id.expect("checked").as_deref())?;
    let connector_id = connector_id.expect("checked");
    let reservation = reservation.expect("checked").map(|r| r.expect("checked"));
    let meter_start = register(meter_start.expect("checked"));
    let started_at = started_at.expect("checked");

    // The turn first: a write, so on SQLite the start runs as the writer from here on.
    let (status, copy) = connectors::turn_and_station(station, &connector_id)?;
    if OUT_OF_SERVICE.contains(&status.as_str()) {
        return Err(ApiError::conflict("connector_unavailable", format!("the connector is {status}")));
    }
    let busy = db::query(
        "SELECT id FROM sessions WHERE station_id = $1 AND connector_id = $2 AND status = 'active'",
        &[&station, &connector_id],
    )?;
    if !busy.is_empty() {
        return Err(ApiError::conflict("connector_busy", "a session is already charging on this connector"));
    }
    // A reservation covering the start keeps the connector for its driver.
    // Holding bookings never overlap, so only the last to start by now can cover now.
    // A no-show whose timer is yet to be delivered still reads `confirmed`, and keeps nothing.
    let latest = db::query(
        "SELECT id, driver_id, status, ends_at FROM reservations
         WHERE station_id = $1 AND connector_id = $2 AND status IN ('confirmed', 'fulfilled') AND starts_at <= $3
         ORDER BY starts_at DESC LIMIT 1",
        &[&station, &connector_id, &started_at],
    )?;
    if let Some(holder) = latest.first() {
        let (status, end) = expiry::effective(holder, now)?;
        let (holder_id, holder_driver): (Uuid, String) = (holder.get("id")?, holder.get("driver_id")?);
        let theirs = holder_driver != driver_id || reservation.is_some_and(|r| r != holder_id);
        if status == "confirmed" && end > started_at && theirs {
            return Err(ApiError::conflict("connector_reserved", "the connector is reserved for someone else now"));
        }
    }
    if let Some(reservation) = reservation {
        let rows = db::query(
            "SELECT driver_id, station_id, connector_id, status, ends_at FROM reservations WHERE id = $1",
            &[&reservation],
        )?;
        let row = rows.first().ok_or_else(|| Problems::one("reservationId", "names no reservation"))?;
        let matches = row.get::<String>("driver_id")? == driver_id
            && row.get::<Uuid>("station_id")? == station
            && row.get::<String>("connector_id")? == connector_id;
        if !matches {
            return Err(Problems::one("reservationId", "is for another driver or connector"));
        }
        if expiry::effective(row, now)?.0 != "confirmed" {
            return Err(ApiError::conflict("reservation_not_active", "the reservation is not confirmed"));
        }
    }
    // Pin the tariff version and the pricing rule version in force now.
    let tariff = match &copy.tariff_id {
        Some(id) => connectors::tariff(id)?,
        None => None,
    };
    // A session its tariff cannot price would never be invoiced.
    if let (Some(id), Some(tariff)) = (&copy.tariff_id, &tariff)
        && !tariff.in_force_at(started_at)
    {
        return Err(ApiError::conflict(
            "tariff_not_in_force",
            format!("the station's tariff {id:?} is not in force at {}", api::time(started_at)),
        ));
    }
    let rule_version = match &tariff {
        Some(TariffCopy { rule, .. }) => Some(pricing::rule_version(rule).map_err(|e| {
            eprintln!("no version of the pricing rule {rule:?}: {e:?}");
            ApiError::new(503, "temporarily_unavailable", "the tariff's pricing rule is not available; retry")
        })?),
        None => None,
    };
    let id = joule_sdk::ids::time_ordered();
    db::execute(
        "INSERT INTO sessions (id, station_id, connector_id, driver_id, reservation_id, status, meter_start_wh, started_at,
                               time_zone, tariff_id, tariff_version, rule, rule_version)
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $11, $12)",
        &[
            &id,
            &station,
            &connector_id,
            &driver_id,
            &reservation,
            &meter_start,
            &started_at,
            &copy.time_zone,
            &copy.tariff_id,
            &tariff.as_ref().map(|t| t.version),
            &tariff.as_ref().map(|t| t.rule.clone()),
            &rule_version.map(i64::from),
        ],
    )?;
    if let Some(reservation) = reservation {
        db::execute(
            "UPDATE reservations SET status = 'fulfilled', session_id = $2, updated_at = $3 WHERE id = $1",
            &[&reservation, &id, &now],
        )?;
        expiry::cancel(reservation)?;
    }
    let started = find(id)?.expect("just inserted");
    api::publish("charging.session.started.v1", &event_data(&started))?;
    let mut response = api::json(201, &started);
    response.set_header("location", format!("/api/v1/sessions/{id}"));
    Ok(response)
}

pub fn get(_: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    Ok(api::json(200, &visible(&caller, session_id(&params)?)?))
}

/// A register reading, checked to be at most [`MAX_REGISTER_WH`], as stored.
fn register(wh: u64) -> i64 {
    i64::try_from(wh).expect("bounded by MAX_REGISTER_WH")
}

fn started_at(session: &Value) -> DateTime<Utc> {
    session["startedAt"].as_str().and_then(|t| t.parse().ok()).expect("stored")
}

/// The session, which the caller may see and which must still be charging, and its last
/// meter reading.
fn active(caller: &Caller, id: Uuid) -> Result<(Value, DateTime<Utc>, i64)> {
    let session = visible(caller, id)?;
    if session["status"] != "active" {
        return Err(ApiError::conflict("session_not_active", "the session has already stopped"));
    }
    let rows = db::query(
        "SELECT taken_at, energy_wh FROM meter_values WHERE session_id = $1 ORDER BY taken_at DESC LIMIT 1",
        &[&id],
    )?;
    let (at, energy) = match rows.first() {
        Some(row) => (row.get("taken_at")?, row.get("energy_wh")?),
        None => (started_at(&session), session["meterStartWh"].as_i64().expect("stored")),
    };
    Ok((session, at, energy))
}

/// Records a meter reading: the register's total, which never goes down.
pub fn meter_value(request: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    let id = session_id(&params)?;
    let body = api::read_json(&request)?;
    let mut problems = Problems::new();
    let reader = Reader::body(&body, &mut problems);
    reader.only(&["timestamp", "energyWh"], &mut problems);
    let taken_at = reader.timestamp("timestamp", &mut problems);
    let energy = reader.whole("energyWh", 0, MAX_REGISTER_WH, &mut problems);
    problems.finish()?;
    let (taken_at, energy) = (taken_at.expect("checked"), register(energy.expect("checked")));
    let (session, last_at, last_energy) = active(&caller, id)?;
    let mut problems = Problems::new();
    if taken_at <= last_at {
        problems.add("timestamp", "must be after the session's start and its last reading");
    }
    limits::within_session("timestamp", taken_at, started_at(&session), &mut problems);
    if energy < last_energy {
        problems.add("energyWh", format!("must not be below the last reading, {last_energy} Wh"));
    }
    limits::energy_step("energyWh", energy, last_energy, &mut problems);
    let readings = db::query("SELECT count(*) AS n FROM meter_values WHERE session_id = $1", &[&id])?;
    if readings.first().map(|row| row.get::<i64>("n")).transpose()?.unwrap_or(0) >= MAX_READINGS {
        problems.add("timestamp", format!("the session already holds {MAX_READINGS} readings, the most one may"));
    }
    problems.finish()?;
    db::execute("INSERT INTO meter_values (session_id, taken_at, energy_wh) VALUES ($1, $2, $3)", &[&id, &taken_at, &energy])?;
    Ok(api::json(201, &json!({ "sessionId": id, "timestamp": api::time(taken_at), "energyWh": energy })))
}

/// Ends charging; the event carries what billing prices: the periods between readings.
pub fn stop(request: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    let id = session_id(&params)?;
    let body = api::read_json(&request)?;
    let now = Utc::now();
    let mut problems = Problems::new();
    let reader = Reader::body(&body, &mut problems);
    reader.only(&["meterStopWh", "stoppedAt", "unpluggedAt"], &mut problems);
    let meter_stop = reader.whole("meterStopWh", 0, MAX_REGISTER_WH, &mut problems);
    let stopped_at = reader.optional_timestamp("stoppedAt", &mut problems).map(|at| at.unwrap_or(now));
    let unplugged_at = reader.optional_timestamp("unpluggedAt", &mut problems);
    problems.finish()?;
    let meter_stop = register(meter_stop.expect("checked"));
    let stopped_at = stopped_at.expect("checked");
    let unplugged_at = unplugged_at.expect("checked").unwrap_or(stopped_at);
    let (session, last_at, last_energy) = active(&caller, id)?;
    let mut problems = Problems::new();
    if stopped_at < last_at {
        problems.add("stoppedAt", "must not be before the session's start or its last reading");
    }
    if unplugged_at < stopped_at {
        problems.add("unpluggedAt", "must not be before stoppedAt");
    }
    if meter_stop < last_energy {
        problems.add("meterStopWh", format!("must not be below the last reading, {last_energy} Wh"));
    }
    let started = started_at(&session);
    limits::within_session("stoppedAt", stopped_at, started, &mut problems);
    limits::within_session("unpluggedAt", unplugged_at, started, &mut problems);
    limits::energy_step("meterStopWh", meter_stop, last_energy, &mut problems);
    problems.finish()?;

    let periods = periods(id, &session, stopped_at, meter_stop)?;
    db::execute(
        "UPDATE sessions SET status = 'completed', meter_stop_wh = $2, stopped_at = $3, unplugged_at = $4 WHERE id = $1",
        &[&id, &meter_stop, &stopped_at, &unplugged_at],
    )?;
    let completed = find(id)?.expect("just updated");
    let mut data = event_data(&completed);
    data["periods"] = json!(periods);
    api::publish("charging.session.completed.v1", &data)?;
    Ok(api::json(200, &completed))
}

/// The charging periods between consecutive readings, from the start to the stop.
fn periods(id: Uuid, session: &Value, stopped_at: DateTime<Utc>, meter_stop: i64) -> Result<Vec<Value>> {
    let mut readings = vec![(started_at(session), session["meterStartWh"].as_i64().expect("stored"))];
    let rows = db::query("SELECT taken_at, energy_wh FROM meter_values WHERE session_id = $1 ORDER BY taken_at", &[&id])?;
    for row in rows.iter() {
        readings.push((row.get("taken_at")?, row.get("energy_wh")?));
    }
    readings.push((stopped_at, meter_stop));
    Ok(readings
        .windows(2)
        .filter(|pair| pair[1].0 > pair[0].0)
        .map(|pair| json!({ "startsAt": api::time(pair[0].0), "endsAt": api::time(pair[1].0), "energyWh": pair[1].1 - pair[0].1 }))
        .collect())
}

/// A session as its events carry it, with the id also under `sessionId`.
fn event_data(session: &Value) -> Value {
    let mut data = session.clone();
    data["sessionId"] = session["id"].clone();
    data
}

fn session_id(params: &Params) -> Result<Uuid> {
    let raw = params.get("id").unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("session", raw))
}
