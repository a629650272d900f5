//! The stations' OCPP charge points (1.6J and 2.0.1): who may connect, and BootNotification,
//! Heartbeat and StatusNotification. Other actions belong to other components.
//!
//! Each CALL is one unit of work: what it records and publishes commits together, before the
//! host sends the answer; a CALLERROR rolls it back.

use chrono::Utc;
use joule_sdk::ocpp::{self, CallError, ChargePoint, Connection, ErrorCode, Refusal, Request, Target};
use joule_sdk::{db, events, variables};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::ocpp_messages;
use crate::{charge_points, heartbeats, password, presence, store};

/// The heartbeat interval given to a charge point that has no valid setting.
const DEFAULT_HEARTBEAT: i64 = 300;

/// The OCPP handler of the stations component.
pub struct Stations;

impl ChargePoint for Stations {
    fn connect(connection: Connection) -> Result<(), Refusal> {
        let id = &connection.charge_point_id;
        let credentials = match charge_points::credentials(id) {
            Ok(Some(credentials)) => credentials,
            Ok(None) => {
                eprintln!("refused charge point {id:?}: no station has it");
                return Err(Refusal::UnknownChargePoint);
            }
            // The refusal cannot say "retry"; the log tells the operator what happened.
            Err(e) => {
                eprintln!("refused charge point {id:?}: reading it failed: {e:?}");
                return Err(Refusal::UnknownChargePoint);
            }
        };
        let Some(hash) = credentials.password_hash else {
            eprintln!("refused charge point {id:?}: no password is set for it");
            return Err(Refusal::WrongPassword);
        };
        if !password::verify(&connection.password, &hash) {
            eprintln!("refused charge point {id:?}: wrong password");
            return Err(Refusal::WrongPassword);
        }
        if let Some(protocol) = credentials.protocol
            && protocol != connection.protocol
        {
            eprintln!(
                "refused charge point {id:?}: it speaks {}, its station is set to {protocol}",
                connection.protocol
            );
            return Err(Refusal::UnknownChargePoint);
        }
        Ok(())
    }

    fn handle(request: Request) -> Result<Value, CallError> {
        // The turn first, and with it the station whose charge point is calling, if it still
        // has one.
        let station = charge_points::take_turn(&request.charge_point_id).map_err(internal)?;
        match request.action.as_str() {
            "BootNotification" => boot(&request, station),
            "Heartbeat" => heartbeat(&request, station),
            "StatusNotification" => status_notification(&request, station),
            other => Err(CallError::not_supported(other)),
        }
    }
}

fn boot(request: &Request, station: Option<Uuid>) -> Result<Value, CallError> {
    let info = ocpp_messages::boot(request)?;
    let interval = heartbeat_interval();
    let Some(station_id) = station else {
        // Its station went away while it was connected: it should stop talking to us.
        return Ok(json!({ "status": "Rejected", "currentTime": ocpp::now(), "interval": interval }));
    };
    store::claim(station_id).map_err(internal)?;
    let now = Utc::now();
    let was_offline = charge_points::record_boot(station_id, &info, &request.protocol, now).map_err(internal)?;
    heartbeats::heard(&request.charge_point_id, now, interval).map_err(timer_fault)?;
    let station = store::find(station_id).map_err(internal)?.ok_or_else(unknown)?;
    publish("station.updated.v1", &station)?;
    if let Some(since) = was_offline {
        publish(presence::ONLINE, &presence::online(station_id, &request.charge_point_id, now, since))?;
    }
    Ok(json!({ "status": "Accepted", "currentTime": ocpp::now(), "interval": interval }))
}

fn heartbeat(request: &Request, station: Option<Uuid>) -> Result<Value, CallError> {
    let station_id = station.ok_or_else(unknown)?;
    let now = Utc::now();
    let interval = seen(request, station_id, now)?;
    publish(presence::HEARTBEAT, &presence::heartbeat(station_id, &request.charge_point_id, now, interval))?;
    Ok(json!({ "currentTime": ocpp::now() }))
}

/// Records that the charge point spoke, moves its missed-heartbeat check on, and says so
/// when it comes back from offline. Returns the heartbeat interval it is held to.
fn seen(request: &Request, station_id: Uuid, at: chrono::DateTime<Utc>) -> Result<i64, CallError> {
    if let Some(since) = charge_points::seen(station_id, at).map_err(internal)? {
        let station = store::find(station_id).map_err(internal)?.ok_or_else(unknown)?;
        publish("station.updated.v1", &station)?;
        publish(presence::ONLINE, &presence::online(station_id, &request.charge_point_id, at, since))?;
    }
    let interval = heartbeat_interval();
    heartbeats::heard(&request.charge_point_id, at, interval).map_err(timer_fault)?;
    Ok(interval)
}

/// Sets the connector's status as the REST status endpoint does, and publishes the change
/// with the OCPP status too, which sessions read (SuspendedEV and Finishing end charging).
fn status_notification(request: &Request, station: Option<Uuid>) -> Result<Value, CallError> {
    let report = ocpp_messages::status(request)?;
    let station_id = station.ok_or_else(unknown)?;
    let now = Utc::now();
    seen(request, station_id, now)?;
    // A CSMS accepts every notification; one about no connector of the station changes nothing.
    let connector_id = match report.target {
        Target::ChargePoint => return Ok(json!({})),
        Target::Unknown(ids) => {
            eprintln!(
                "charge point {:?} reported a status for {ids}, which names no connector",
                request.charge_point_id
            );
            return Ok(json!({}));
        }
        Target::Connector(id) => id,
    };
    store::claim(station_id).map_err(internal)?;
    let station = store::find(station_id).map_err(internal)?.ok_or_else(unknown)?;
    let Some(connector) = station.connectors.into_iter().find(|c| c.connector_id == connector_id) else {
        eprintln!(
            "charge point {:?} reported a status for connector {connector_id:?}, which station {station_id} does not have",
            request.charge_point_id
        );
        return Ok(json!({}));
    };
    if connector.status == report.status && connector.ocpp_status.as_deref() == Some(report.ocpp_status.as_str()) {
        return Ok(json!({}));
    }
    store::set_ocpp_status(station_id, &connector_id, report.status, &report.ocpp_status, now).map_err(internal)?;
    publish(
        "station.status-changed.v1",
        &json!({
            "stationId": station_id,
            "connectorId": connector_id,
            "status": report.status,
            "previousStatus": connector.status,
            "changedAt": report.at.unwrap_or(now),
            "ocppStatus": report.ocpp_status,
            "previousOcppStatus": connector.ocpp_status,
            "chargePointId": request.charge_point_id,
        }),
    )?;
    Ok(json!({}))
}

/// The interval BootNotification gives: `ocpp_heartbeat_interval_seconds`.
fn heartbeat_interval() -> i64 {
    parse_interval(variables::get("ocpp_heartbeat_interval_seconds").ok().as_deref())
}

/// A missing or malformed setting is the default; an absurd one is kept within a day.
fn parse_interval(value: Option<&str>) -> i64 {
    match value.and_then(|v| v.trim().parse::<i64>().ok()) {
        Some(seconds) if seconds > 0 => seconds.min(86_400),
        _ => DEFAULT_HEARTBEAT,
    }
}

fn unknown() -> CallError {
    CallError::new(ErrorCode::GenericError, "unknown charge point")
}

fn internal(error: db::Error) -> CallError {
    CallError::internal("a database statement", error)
}

fn timer_fault(error: joule_sdk::timers::Error) -> CallError {
    CallError::internal("scheduling the missed-heartbeat check", error)
}

fn publish(event_type: &str, data: &impl serde::Serialize) -> Result<(), CallError> {
    events::publish(event_type, data).map(drop).map_err(|e| CallError::internal(&format!("publishing {event_type}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_malformed_or_absurd_interval_cannot_reach_a_charge_point() {
        assert_eq!(parse_interval(None), 300);
        assert_eq!(parse_interval(Some("often")), 300);
        assert_eq!(parse_interval(Some("0")), 300);
        assert_eq!(parse_interval(Some("-5")), 300);
        assert_eq!(parse_interval(Some(" 60 ")), 60);
        assert_eq!(parse_interval(Some("1")), 1);
        assert_eq!(parse_interval(Some("999999999")), 86_400);
    }
}
