//! `/api/v1/sessions`: charging sessions, their meter readings, and their end, over REST.
//! Charge points start and stop the same sessions over OCPP ([`crate::ocpp`]); on an OCPP
//! station a driver's start and stop are asked of the charge point ([`crate::remote`]).

use chrono::{DateTime, Utc};
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Problems, Reader};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::charging::{self, Start, Stop};
use crate::meter_events::{self, Reading};
use crate::remote;
use crate::limits::{self, MAX_READINGS, MAX_REGISTER_WH};

type Result<T = Response> = std::result::Result<T, ApiError>;

/// The session, if the caller may see it: another driver's is as unknown as a missing one.
fn visible(caller: &Caller, id: Uuid) -> Result<Value> {
    caller.visible(charging::find(id)?, |s| s["driverId"].as_str().unwrap_or_default(), "session", &id.to_string())
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
    let meter_start = reader.optional_whole("meterStartWh", 0, MAX_REGISTER_WH, &mut problems);
    let started_at = reader.optional_timestamp("startedAt", &mut problems).map(|at| at.unwrap_or(now));
    if matches!(station, Some(Err(_))) {
        problems.add("stationId", "names no station");
    }
    if matches!(reservation, Some(Some(Err(_)))) {
        problems.add("reservationId", "names no reservation");
    }
    problems.finish()?;
    let driver_id = caller.driver_id(driver_id.expect("checked").as_deref())?;
    let (station, connector_id) = (station.expect("checked").expect("checked"), connector_id.expect("checked"));
    let meter_start = meter_start.expect("checked");
    let mut problems = Problems::new();
    if let Some(cp) = remote::charge_point_of(station)? {
        charging::startable(station, &connector_id, &driver_id)?;
        // The charge point reports the meter and the start itself, and takes up the driver's booking.
        for given in ["meterStartWh", "startedAt", "reservationId"].into_iter().filter(|key| reader.has(key)) {
            problems.add(given, "is the charge point's to report on an OCPP station");
        }
        problems.finish()?;
        return remote::start(&cp, station, &connector_id, &driver_id, now);
    }
    if meter_start.is_none() {
        problems.add("meterStartWh", "is required");
    }
    problems.finish()?;
    let start = Start {
        station,
        connector_id,
        driver_id,
        reservation: reservation.expect("checked").map(|r| r.expect("checked")),
        claim_own_booking: false,
        meter_start_wh: register(meter_start.expect("checked")),
        meter_start_pending: false,
        started_at: started_at.expect("checked"),
        ocpp: None,
    };
    let started = charging::start(start, now)?;
    let mut response = api::json(201, &started);
    response.set_header("location", format!("/api/v1/sessions/{}", charging::id_of(&started)));
    Ok(response)
}

/// Sessions, oldest first, a page at a time: a driver's own, or for an operator the named
/// driver's (`?driverId=`) or everyone's.
pub fn list(request: Request, _: Params) -> Result {
    charging::list(&request)
}

pub fn get(_: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    Ok(api::json(200, &visible(&caller, session_id(&params)?)?))
}

/// A register reading, checked to be at most [`MAX_REGISTER_WH`], as stored.
fn register(wh: u64) -> i64 {
    i64::try_from(wh).expect("bounded by MAX_REGISTER_WH")
}

/// The session, which the caller may see and which must still be charging, and its last
/// meter reading.
fn active(caller: &Caller, id: Uuid) -> Result<(Value, DateTime<Utc>, i64)> {
    let session = visible(caller, id)?;
    if session["status"] != "active" {
        return Err(ApiError::conflict("session_not_active", "the session has already stopped"));
    }
    let (at, energy) = charging::last_reading(&session)?;
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
    limits::within_session("timestamp", taken_at, charging::started_at(&session), &mut problems);
    if energy < last_energy {
        problems.add("energyWh", format!("must not be below the last reading, {last_energy} Wh"));
    }
    limits::energy_step("energyWh", energy, last_energy, &mut problems);
    if charging::reading_count(id)? >= MAX_READINGS {
        problems.add("timestamp", format!("the session already holds {MAX_READINGS} readings, the most one may"));
    }
    problems.finish()?;
    charging::insert_reading(id, taken_at, energy, None)?;
    let meter_start_wh = session["meterStartWh"].as_i64().expect("stored");
    meter_events::publish(&session, &Reading { at: taken_at, energy_wh: energy, meter_start_wh, power_w: None })?;
    Ok(api::json(201, &json!({ "sessionId": id, "timestamp": api::time(taken_at), "energyWh": energy })))
}

/// Ends charging; the event carries what billing prices: the periods between readings. A
/// session a charge point runs is asked of it to stop (202); its StopTransaction ends it.
pub fn stop(request: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    let id = session_id(&params)?;
    let session = visible(&caller, id)?;
    if let Some(cp) = session["chargePointId"].as_str() {
        if session["status"] != "active" {
            return Err(ApiError::conflict("session_not_active", "the session has already stopped"));
        }
        let body = if request.body().is_empty() { json!({}) } else { api::read_json(&request)? };
        let mut problems = Problems::new();
        Reader::body(&body, &mut problems).only(&[], &mut problems);
        problems.finish()?;
        return Ok(api::json(202, &remote::stop(&session, cp)?));
    }
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
    let started = charging::started_at(&session);
    limits::within_session("stoppedAt", stopped_at, started, &mut problems);
    limits::within_session("unpluggedAt", unplugged_at, started, &mut problems);
    limits::energy_step("meterStopWh", meter_stop, last_energy, &mut problems);
    problems.finish()?;
    let completed = charging::complete(&session, &Stop { meter_stop_wh: meter_stop, stopped_at, unplugged_at })?;
    Ok(api::json(200, &completed))
}

fn session_id(params: &Params) -> Result<Uuid> {
    let raw = params.get("id").unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("session", raw))
}
