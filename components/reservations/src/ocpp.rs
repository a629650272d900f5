//! Sessions that charge points start and stop: OCPP 1.6's StartTransaction, MeterValues
//! and StopTransaction, and 2.0.1's TransactionEvent, on the same session model as REST.
//!
//! A charge point queues transaction messages while offline and sends them again after a
//! reconnect, some of them twice; each is applied once: a start that is already a session
//! gets its answer again, a reading already held or out of place is passed over, and a stop
//! of a completed session changes nothing. A refused start (a token that may not charge, a
//! connector reserved for someone else) is an answer, not a CALLERROR, so the charge point
//! stops; only a fault rolls back.

use chrono::{DateTime, TimeDelta, Utc};
use joule_sdk::api::ApiError;
use joule_sdk::db;
use joule_sdk::ocpp::{CallError, ChargePoint, Connection, Refusal, Request, Target};
use ocpi_tariff::limits::{MAX_PERIOD_WH, MAX_SESSION_DAYS};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::charging::{self, OcppStart, Start, Stop};
use crate::ocpp_messages::{self, Reading, TransactionEvent};
use crate::{holds, remote};
use crate::tokens::{self, Verdict};

/// The OCPP handler of the reservations component.
pub struct Sessions;

impl ChargePoint for Sessions {
    /// Connections are the stations component's to admit.
    fn connect(_: Connection) -> Result<(), Refusal> {
        Err(Refusal::UnknownChargePoint)
    }

    fn handle(request: Request) -> Result<Value, CallError> {
        take_turn(&request.charge_point_id).map_err(internal)?;
        match request.action.as_str() {
            "StartTransaction" => start_transaction(&request),
            "MeterValues" => meter_values(&request),
            "StopTransaction" => stop_transaction(&request),
            "TransactionEvent" => transaction_event(&request),
            other => Err(CallError::not_supported(other)),
        }
    }
}

/// 2.0.1 charging states after which the car is parked, not charging.
const PARKED_STATES: [&str; 3] = ["EVConnected", "SuspendedEV", "Idle"];

fn start_transaction(request: &Request) -> Result<Value, CallError> {
    let start = ocpp_messages::start_transaction(request)?;
    let now = Utc::now();
    let cp = &request.charge_point_id;
    // Sent again after a reconnect, because its answer was lost: the same answer.
    if let Some(session) = repeated_start(cp, &start.id_tag, start.at).map_err(internal)? {
        return Ok(json!({ "transactionId": transaction_number(&session), "idTagInfo": { "status": "Accepted" } }));
    }
    let transaction_id = next_transaction_id().map_err(internal)?;
    let refused = |status: &str| Ok(json!({ "transactionId": transaction_id, "idTagInfo": { "status": status } }));
    let verdict = tokens::judge(&start.id_tag, now).map_err(internal)?;
    let Verdict::Accepted(driver_id) = verdict else { return refused(verdict.status()) };
    let Some(connector_id) = connector(cp, &start.target) else { return refused("Invalid") };
    let Some(station) = station_of(cp).map_err(internal)? else { return refused("Invalid") };
    // The booking the charge point held for this start, by the number its ReserveNow gave.
    let reservation = start.reservation_id.map(holds::booking_of).transpose().map_err(internal)?.flatten();
    let new = Start {
        station,
        connector_id,
        driver_id,
        reservation,
        claim_own_booking: true,
        meter_start_wh: start.meter_start_wh.max(0),
        meter_start_pending: false,
        started_at: start.at,
        ocpp: Some(OcppStart { charge_point_id: cp.clone(), transaction_id: transaction_id.to_string(), id_tag: start.id_tag }),
    };
    match charging::start(new, now) {
        Ok(session) => {
            take_up_remote_start(&session, now)?;
            Ok(json!({ "transactionId": transaction_id, "idTagInfo": { "status": "Accepted" } }))
        }
        Err(refusal) => refusal_status(&refusal, "Invalid", "ConcurrentTx").and_then(refused),
    }
}

fn meter_values(request: &Request) -> Result<Value, CallError> {
    let values = ocpp_messages::meter_values(request)?;
    let cp = &request.charge_point_id;
    let session = match &values.transaction_id {
        Some(id) => charging::find_transaction(cp, id).map_err(internal)?,
        None => on_connector(cp, &values.target)?,
    };
    match session {
        Some(session) => drop(record(&session, &values.readings)?),
        None => eprintln!("charge point {cp:?} sent meter values of no session it is charging: {:?}", values.transaction_id),
    }
    Ok(json!({}))
}

fn stop_transaction(request: &Request) -> Result<Value, CallError> {
    let stop = ocpp_messages::stop_transaction(request)?;
    let cp = &request.charge_point_id;
    let answer = match &stop.id_tag {
        Some(id_tag) => json!({ "idTagInfo": { "status": tokens::judge(id_tag, Utc::now()).map_err(internal)?.status() } }),
        None => json!({}),
    };
    let Some(session) = charging::find_transaction(cp, &stop.transaction_id).map_err(internal)? else {
        // A transaction whose start was refused, or that this platform never saw.
        eprintln!("charge point {cp:?} stopped transaction {}, which is no session", stop.transaction_id);
        return Ok(answer);
    };
    let session = record(&session, &stop.readings)?;
    finish(&session, Some(stop.meter_stop_wh), stop.at)?;
    Ok(answer)
}

fn transaction_event(request: &Request) -> Result<Value, CallError> {
    let event = ocpp_messages::transaction_event(request)?;
    let cp = &request.charge_point_id;
    let now = Utc::now();
    let verdict = event.id_token.as_deref().map(|token| tokens::judge(token, now)).transpose().map_err(internal)?;
    let answer = |status: Option<&str>| match status {
        Some(status) => json!({ "idTokenInfo": { "status": status } }),
        None => json!({}),
    };
    let session = match charging::find_transaction(cp, &event.transaction_id).map_err(internal)? {
        Some(session) => session,
        // A transaction starts when the station says who charges: with its Started event,
        // or a later one that brings the token.
        None if event.event_type != "Ended" && verdict.is_some() => {
            let verdict = verdict.expect("checked");
            let status = start_event(cp, &event, &verdict, now)?;
            return Ok(answer(Some(status)));
        }
        None => {
            eprintln!("charge point {cp:?} sent {} of transaction {}, which is no session", event.event_type, event.transaction_id);
            return Ok(answer(verdict.as_ref().map(Verdict::status)));
        }
    };
    let session = record(&session, &event.readings)?;
    if session["status"] == "active" {
        if let Some(state) = &event.charging_state {
            let (station, connector) = place(&session);
            let parked = PARKED_STATES.contains(&state.as_str());
            charging::charging_state(station, &connector, parked, event.at).map_err(internal)?;
        }
        if event.event_type == "Ended" {
            let session = charging::load(charging::id_of(&session)).map_err(internal)?.expect("stored");
            let meter_stop = event.readings.iter().rev().find_map(|r| r.energy_wh);
            finish(&session, meter_stop, event.at)?;
        }
    }
    Ok(answer(verdict.as_ref().map(Verdict::status)))
}

/// Starts the session of a 2.0.1 transaction; the answer's token status.
fn start_event(cp: &str, event: &TransactionEvent, verdict: &Verdict, now: DateTime<Utc>) -> Result<&'static str, CallError> {
    let Verdict::Accepted(driver_id) = verdict else { return Ok(verdict.status()) };
    let connector_id = match &event.target {
        Some(target) => connector(cp, target),
        None => None,
    };
    let (Some(connector_id), Some(station)) = (connector_id, station_of(cp).map_err(internal)?) else {
        eprintln!("charge point {cp:?} started transaction {} on no connector of its station", event.transaction_id);
        return Ok("Invalid");
    };
    let meter_start = event.readings.iter().find_map(|r| r.energy_wh);
    let new = Start {
        station,
        connector_id,
        driver_id: driver_id.clone(),
        reservation: None,
        claim_own_booking: true,
        meter_start_wh: meter_start.unwrap_or(0),
        meter_start_pending: meter_start.is_none(),
        started_at: event.at,
        ocpp: Some(OcppStart {
            charge_point_id: cp.to_string(),
            transaction_id: event.transaction_id.clone(),
            id_tag: event.id_token.clone().unwrap_or_default(),
        }),
    };
    match charging::start(new, now) {
        Ok(session) => {
            take_up_remote_start(&session, now)?;
            if let Some(state) = &event.charging_state
                && PARKED_STATES.contains(&state.as_str())
            {
                let (station, connector) = place(&session);
                charging::charging_state(station, &connector, true, event.at).map_err(internal)?;
            }
            Ok("Accepted")
        }
        Err(refusal) => refusal_status(&refusal, "NotAtThisTime", "ConcurrentTx"),
    }
}

/// Completes an active session at the charge point's stop: charging ended where it said
/// (a status, a charging state), else where the meter last moved, else at the stop; the
/// stop is when the car was unplugged. A stop of a completed session changes nothing.
fn finish(session: &Value, meter_stop: Option<i64>, at: DateTime<Utc>) -> Result<(), CallError> {
    if session["status"] != "active" {
        return Ok(());
    }
    let readings = charging::readings(session).map_err(api_fault)?;
    let (last_at, last_wh) = *readings.last().expect("the start is the first reading");
    // A stop cannot take back energy or time the session already recorded, nor add what no
    // invoice could price (a register jump past a period's most, a session past its longest):
    // such a reading is the charge point's fault, and the session ends at what it recorded.
    let meter_stop_wh = meter_stop.filter(|wh| (last_wh..=last_wh.saturating_add(MAX_PERIOD_WH as i64)).contains(wh));
    let meter_stop_wh = meter_stop_wh.unwrap_or_else(|| {
        eprintln!("session {}: a meter stop of {meter_stop:?} Wh after {last_wh} Wh is not taken", session["id"]);
        last_wh
    });
    let longest = charging::started_at(session) + TimeDelta::days(MAX_SESSION_DAYS);
    let unplugged_at = at.max(last_at).min(longest);
    let reported: Option<DateTime<Utc>> = session["chargingEndedAt"].as_str().and_then(|t| t.parse().ok());
    let stopped_at = reported
        .or_else(|| charging::flat_since(&readings, meter_stop_wh))
        .unwrap_or(unplugged_at)
        .clamp(charging::started_at(session), unplugged_at);
    charging::complete(session, &Stop { meter_stop_wh, stopped_at, unplugged_at }).map_err(api_fault)?;
    Ok(())
}

/// Records a message's readings on the session (power-only samples have no register), and
/// returns the session as it then stands.
fn record(session: &Value, readings: &[Reading]) -> Result<Value, CallError> {
    let id = charging::id_of(session);
    let mut current = session.clone();
    for reading in readings {
        if current["status"] != "active" {
            break;
        }
        if let Some(energy_wh) = reading.energy_wh {
            charging::record_reading(&current, reading.at, energy_wh, reading.power_w).map_err(api_fault)?;
            current = charging::load(id).map_err(internal)?.expect("stored");
        }
    }
    Ok(current)
}

/// A session the driver asked for from the app is the one this start began.
fn take_up_remote_start(session: &Value, now: DateTime<Utc>) -> Result<(), CallError> {
    let (station, connector) = place(session);
    let driver = session["driverId"].as_str().unwrap_or_default();
    remote::started(station, &connector, driver, charging::id_of(session), now).map_err(internal)
}

/// The session's station and connector.
fn place(session: &Value) -> (Uuid, String) {
    let station = session["stationId"].as_str().and_then(|id| Uuid::parse_str(id).ok()).expect("stored");
    (station, session["connectorId"].as_str().unwrap_or_default().to_string())
}

/// The session a charge point is charging on the connector a message names.
fn on_connector(cp: &str, target: &Target) -> Result<Option<Value>, CallError> {
    let (Some(connector_id), Some(station)) = (connector(cp, target), station_of(cp).map_err(internal)?) else {
        return Ok(None);
    };
    charging::active_on(station, &connector_id).map_err(internal)
}

/// The station's connector a message names, if it names one.
fn connector(cp: &str, target: &Target) -> Option<String> {
    match target {
        Target::Connector(id) => Some(id.clone()),
        other => {
            eprintln!("charge point {cp:?} named {other:?} for a transaction, which is no connector");
            None
        }
    }
}

/// Takes the charge point's turn before reading anything: a write (to its station's copy,
/// changing nothing), so one charge point's messages and the events about its connectors
/// apply one at a time (a row lock on Postgres; on SQLite the invocation is the writer from
/// its first statement, so no commit can slip between its reads and its writes).
fn take_turn(cp: &str) -> Result<(), db::Error> {
    db::execute("UPDATE stations SET charge_point_id = charge_point_id WHERE charge_point_id = $1", &[&cp]).map(drop)
}

/// The station whose charge point this is, as the station events said.
fn station_of(cp: &str) -> Result<Option<Uuid>, db::Error> {
    let rows = db::query("SELECT id FROM stations WHERE charge_point_id = $1 ORDER BY updated_at DESC LIMIT 1", &[&cp])?;
    rows.first().map(|row| row.get("id")).transpose()
}

/// The active session this charge point started with this token at this time: a start it
/// sends again.
fn repeated_start(cp: &str, id_tag: &str, at: DateTime<Utc>) -> Result<Option<Value>, db::Error> {
    let rows = db::query(
        "SELECT transaction_id FROM sessions WHERE charge_point_id = $1 AND id_tag = $2 AND started_at = $3",
        &[&cp, &id_tag, &at],
    )?;
    let Some(row) = rows.first() else { return Ok(None) };
    charging::find_transaction(cp, &row.get::<String>("transaction_id")?)
}

/// A 1.6 session's transaction id, as the integer it was given as.
fn transaction_number(session: &Value) -> i64 {
    session["transactionId"].as_str().and_then(|id| id.parse().ok()).unwrap_or_default()
}

/// The next 1.6 transaction id: an integer, as 1.6 wants, from one counter.
fn next_transaction_id() -> Result<i64, db::Error> {
    let rows = db::query(
        "UPDATE ocpp_counters SET value = value % 2147483647 + 1 WHERE name = 'transaction_id' RETURNING value",
        &[],
    )?;
    rows.first().map(|row| row.get("value")).transpose().map(|id| id.unwrap_or(1))
}

/// The OCPP status a refused start answers with, or the fault a platform failure is.
fn refusal_status(refusal: &ApiError, refused: &'static str, busy: &'static str) -> Result<&'static str, CallError> {
    match (refusal.status, refusal.code.as_str()) {
        (409, "connector_busy") => Ok(busy),
        (400..=499, _) => {
            eprintln!("a charge point's start was refused: {} {}", refusal.code, refusal.message);
            Ok(refused)
        }
        _ => Err(api_fault(refusal.clone())),
    }
}

fn internal(error: db::Error) -> CallError {
    CallError::internal("a database statement", error)
}

fn api_fault(error: ApiError) -> CallError {
    CallError::internal("recording the transaction", format!("{} {}", error.code, error.message))
}
