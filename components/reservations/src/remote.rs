//! What a driver asks of a charge point from the app, through the `ocpp` capability: a
//! remote start (`POST /sessions` on an OCPP station) and a remote stop (`POST
//! /sessions/{id}/stop` of a session a charge point runs). Each call is committed with the
//! request; its outcome comes back as an `ocpp.call-result.v1` event saying whether the
//! charge point agreed, while the session itself starts and stops through the charge
//! point's own StartTransaction / StopTransaction (TransactionEvent in 2.0.1).

use chrono::{DateTime, Utc};
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Problems};
use joule_sdk::db;
use joule_sdk::events::{Event, HandlerError};
use joule_sdk::ocpp::{self, OCPP16, OCPP201};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::replica::retry;

type Result<T = Response> = std::result::Result<T, ApiError>;

const START_COLUMNS: &str = "id, station_id, connector_id, driver_id, status, reason, session_id, requested_at, updated_at";

/// Records the OCPP version a charge point connected with (`charge-point.connected.v1`).
pub fn connected(event: &Event) -> std::result::Result<(), HandlerError> {
    let data: Value = event.data_as()?;
    let (Some(cp), Some(protocol), Some(connection)) =
        (data["chargePointId"].as_str(), data["protocol"].as_str(), data["connectionId"].as_str())
    else {
        return Err(HandlerError::Permanent("charge-point.connected.v1 without its chargePointId, protocol or connectionId".into()));
    };
    db::execute(
        "INSERT INTO charge_point_protocols (charge_point_id, protocol, connection_id) VALUES ($1, $2, $3)
         ON CONFLICT (charge_point_id) DO UPDATE SET protocol = excluded.protocol, connection_id = excluded.connection_id
         WHERE charge_point_protocols.connection_id < excluded.connection_id",
        &[&cp, &protocol, &connection],
    )
    .map(drop)
    .map_err(retry)
}

/// The version the charge point last connected with, else the one its station is pinned
/// to, else 1.6 (a charge point that never connected is not connected now either).
pub fn protocol_of(cp: &str) -> Result<String> {
    let rows = db::query(
        "SELECT protocol, 0 AS rank FROM charge_point_protocols WHERE charge_point_id = $1
         UNION ALL
         SELECT ocpp_protocol, 1 AS rank FROM stations WHERE charge_point_id = $1 AND ocpp_protocol IS NOT NULL
         ORDER BY rank LIMIT 1",
        &[&cp],
    )?;
    Ok(rows.first().map(|row| row.get("protocol")).transpose()?.unwrap_or_else(|| OCPP16.to_string()))
}

/// A token of the driver's the charge point can start with: active and not expired.
pub fn token_of(driver_id: &str, now: DateTime<Utc>) -> Result<String> {
    let rows = db::query(
        "SELECT uid FROM tokens WHERE driver_id = $1 AND status = 'ACTIVE' AND (expires_at IS NULL OR expires_at > $2)
         ORDER BY uid LIMIT 1",
        &[&driver_id, &now],
    )?;
    match rows.first() {
        Some(row) => Ok(row.get("uid")?),
        None => Err(ApiError::conflict("no_charging_token", "the driver has no active charging token to start with")),
    }
}

/// The integer OCPP numbers a connector by: 1.6's connectorId, 2.0.1's EVSE (the part of
/// `evse-connector` before the dash).
pub fn ocpp_number(connector_id: &str) -> Result<i64> {
    let evse = connector_id.split('-').next().unwrap_or_default();
    match evse.parse::<i64>() {
        Ok(number) if number > 0 => Ok(number),
        _ => Err(Problems::one("connectorId", &format!("{connector_id:?} is no connector an OCPP charge point numbers"))),
    }
}

/// The charge point of an OCPP station. A write that changes nothing, so on SQLite the
/// invocation is the writer from here on and no commit slips between its reads and writes.
pub fn charge_point_of(station: Uuid) -> Result<Option<String>> {
    let rows = db::query("UPDATE stations SET id = id WHERE id = $1 RETURNING charge_point_id", &[&station])?;
    Ok(rows.first().map(|row| row.get::<Option<String>>("charge_point_id")).transpose()?.flatten())
}

/// A driver's start on an OCPP station: the call, and the start waiting for its session.
pub fn start(cp: &str, station: Uuid, connector_id: &str, driver_id: &str, now: DateTime<Utc>) -> Result {
    let number = ocpp_number(connector_id)?;
    let id_tag = token_of(driver_id, now)?;
    let (action, payload) = if protocol_of(cp)? == OCPP201 {
        let remote_start_id = next_remote_start_id()?;
        let token = json!({ "idToken": id_tag, "type": "ISO14443" });
        ("RequestStartTransaction", json!({ "idToken": token, "remoteStartId": remote_start_id, "evseId": number }))
    } else {
        ("RemoteStartTransaction", json!({ "idTag": id_tag, "connectorId": number }))
    };
    let request_id = ocpp::call(cp, action, &payload)?;
    let id = Uuid::now_v7();
    let rows = db::query(
        &format!(
            "INSERT INTO remote_starts (id, request_id, station_id, connector_id, driver_id, id_tag, status, requested_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7) RETURNING {START_COLUMNS}"
        ),
        &[&id, &request_id, &station, &connector_id, &driver_id, &id_tag, &now],
    )?;
    let started = remote_start(rows.first().expect("inserted"))?;
    let mut response = api::json(202, &started);
    response.set_header("location", format!("/api/v1/sessions/starts/{id}"));
    Ok(response)
}

/// `GET /api/v1/sessions/starts/:id`: how a remote start went.
pub fn get_start(_: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    let raw = params.get("id").unwrap_or_default();
    let id = Uuid::parse_str(raw).map_err(|_| ApiError::not_found("start", raw))?;
    let rows = db::query(&format!("SELECT {START_COLUMNS} FROM remote_starts WHERE id = $1"), &[&id])?;
    let found = rows.first().map(remote_start).transpose()?;
    let start = caller.visible(found, |s| s["driverId"].as_str().unwrap_or_default(), "start", raw)?;
    Ok(api::json(200, &start))
}

fn remote_start(row: db::Row<'_>) -> std::result::Result<Value, db::Error> {
    Ok(json!({
        "id": row.get::<Uuid>("id")?,
        "stationId": row.get::<Uuid>("station_id")?,
        "connectorId": row.get::<String>("connector_id")?,
        "driverId": row.get::<String>("driver_id")?,
        "status": row.get::<String>("status")?,
        "reason": row.get::<Option<String>>("reason")?,
        "sessionId": row.get::<Option<Uuid>>("session_id")?,
        "requestedAt": api::time(row.get("requested_at")?),
        "updatedAt": api::time(row.get("updated_at")?),
    }))
}

/// A session the charge point started takes up the driver's waiting remote start there.
pub fn started(station: Uuid, connector_id: &str, driver_id: &str, session: Uuid, now: DateTime<Utc>) -> std::result::Result<(), db::Error> {
    db::execute(
        "UPDATE remote_starts SET status = 'started', session_id = $4, reason = NULL, updated_at = $5
         WHERE id = (SELECT id FROM remote_starts
                     WHERE station_id = $1 AND connector_id = $2 AND driver_id = $3 AND status IN ('pending', 'accepted')
                     ORDER BY requested_at DESC LIMIT 1)",
        &[&station, &connector_id, &driver_id, &session, &now],
    )
    .map(drop)
}

/// Asks the charge point running `session` to stop it; the session ends with its stop.
pub fn stop(session: &Value, cp: &str) -> Result<Value> {
    let transaction = session["transactionId"].as_str().unwrap_or_default();
    let (action, payload) = if protocol_of(cp)? == OCPP201 {
        ("RequestStopTransaction", json!({ "transactionId": transaction }))
    } else {
        let number: i64 = transaction.parse().map_err(|_| ApiError::conflict("not_stoppable", "the charge point's transaction id is not 1.6's"))?;
        ("RemoteStopTransaction", json!({ "transactionId": number }))
    };
    let request_id = ocpp::call(cp, action, &payload)?;
    let id = crate::charging::id_of(session);
    db::execute(
        "UPDATE sessions SET stop_request_id = $2, stop_status = 'pending', stop_reason = NULL WHERE id = $1",
        &[&id, &request_id],
    )?;
    Ok(crate::charging::find(id)?.expect("the session is there"))
}

/// The next 2.0.1 remoteStartId, from its counter.
fn next_remote_start_id() -> Result<i64> {
    let rows = db::query(
        "UPDATE ocpp_counters SET value = value % 2147483647 + 1 WHERE name = 'remote_start_id' RETURNING value",
        &[],
    )?;
    Ok(rows.first().map(|row| row.get("value")).transpose()?.unwrap_or(1))
}

/// An `ocpp.call-result.v1`: whether the charge point agreed to a start or a stop.
pub fn result(event: &Event) -> std::result::Result<(), HandlerError> {
    let data: Value = event.data_as()?;
    let request_id = data["requestId"].as_str().unwrap_or_default();
    let (status, reason) = verdict(&data);
    if crate::holds::result(request_id, status, reason.as_deref()).map_err(retry)? {
        return Ok(());
    }
    let now = Utc::now();
    let starts = db::execute(
        "UPDATE remote_starts SET status = $2, reason = $3, updated_at = $4 WHERE request_id = $1 AND status IN ('pending', 'accepted')",
        &[&request_id, &status, &reason, &now],
    )
    .map_err(retry)?;
    if starts == 0 {
        db::execute(
            "UPDATE sessions SET stop_status = $2, stop_reason = $3 WHERE stop_request_id = $1",
            &[&request_id, &status, &reason],
        )
        .map_err(retry)?;
    }
    Ok(())
}

/// accepted or rejected, as the charge point answered; failed, with why, when it did not.
fn verdict(data: &Value) -> (&'static str, Option<String>) {
    match data["status"].as_str() {
        Some("result") if data["payload"]["status"] == "Accepted" => ("accepted", None),
        Some("result") => ("rejected", data["payload"]["status"].as_str().map(str::to_string)),
        Some("call-error") => (
            "failed",
            Some(format!("call-error: {} {}", data["error"]["code"].as_str().unwrap_or("?"), data["error"]["description"].as_str().unwrap_or(""))),
        ),
        Some(other) => ("failed", Some(other.to_string())),
        None => ("failed", Some("an unreadable result".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connectors_are_numbered_as_ocpp_numbers_them() {
        assert_eq!(ocpp_number("2").unwrap(), 2);
        assert_eq!(ocpp_number("3-1").unwrap(), 3);
        assert!(ocpp_number("A").is_err() && ocpp_number("0").is_err());
    }

    #[test]
    fn a_result_is_an_answer_or_a_failure_with_its_reason() {
        assert_eq!(verdict(&json!({ "status": "result", "payload": { "status": "Accepted" } })), ("accepted", None));
        assert_eq!(verdict(&json!({ "status": "result", "payload": { "status": "Rejected" } })), ("rejected", Some("Rejected".into())));
        assert_eq!(verdict(&json!({ "status": "not-connected" })), ("failed", Some("not-connected".into())));
        let error = json!({ "status": "call-error", "error": { "code": "GenericError", "description": "no" } });
        assert_eq!(verdict(&error), ("failed", Some("call-error: GenericError no".into())));
    }
}
