//! Bookings held at the charge point: a booking on an OCPP station sends ReserveNow when it
//! starts (a timer) and CancelReservation when it is cancelled after that, through the
//! `ocpp` capability. OCPP numbers reservations with integers, so the booking gets one
//! when its ReserveNow goes; a StartTransaction (or TransactionEvent) naming that number
//! takes up the booking.

use chrono::{DateTime, Utc};
use joule_sdk::db;
use joule_sdk::events::{Event, HandlerError};
use joule_sdk::ocpp::{self, OCPP201};
use joule_sdk::timers;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::remote;
use crate::replica::retry;

/// The timer's event type, as `spin.toml` grants it.
pub const RESERVE_NOW: &str = "reservation.reserve-now.v1";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Hold {
    reservation_id: Uuid,
}

fn key(id: Uuid) -> String {
    format!("hold:{id}")
}

/// Schedules the ReserveNow of a new booking on an OCPP station, for its start.
pub fn schedule(id: Uuid, station: Uuid, starts_at: DateTime<Utc>) -> Result<(), joule_sdk::api::ApiError> {
    if remote::charge_point_of(station)?.is_some() {
        timers::schedule(starts_at, RESERVE_NOW, &Hold { reservation_id: id }, Some(&key(id)))?;
    }
    Ok(())
}

/// At the booking's start: ReserveNow with the driver's token, until its end.
pub fn reserve_now(event: &Event) -> Result<(), HandlerError> {
    let Hold { reservation_id: id } = event.data_as()?;
    let now = Utc::now();
    let rows = db::query(
        "SELECT r.station_id, r.connector_id, r.driver_id, r.ends_at, s.charge_point_id
         FROM reservations r JOIN stations s ON s.id = r.station_id
         WHERE r.id = $1 AND r.status = 'confirmed' AND r.ends_at > $2 AND r.hold_status IS NULL",
        &[&id, &now],
    )
    .map_err(retry)?;
    let Some(row) = rows.first() else { return Ok(()) };
    let cp: Option<String> = row.get("charge_point_id").map_err(retry)?;
    let Some(cp) = cp else { return Ok(()) };
    let (connector_id, driver_id): (String, String) = (row.get("connector_id").map_err(retry)?, row.get("driver_id").map_err(retry)?);
    let ends_at: DateTime<Utc> = row.get("ends_at").map_err(retry)?;
    let (Ok(number), Ok(id_tag)) = (remote::ocpp_number(&connector_id), remote::token_of(&driver_id, now)) else {
        eprintln!("booking {id} is not held at charge point {cp:?}: no OCPP connector number or no active token");
        return Ok(());
    };
    let ocpp_id = next_reservation_id().map_err(retry)?;
    let expiry = joule_sdk::api::time(ends_at);
    let payload = if remote::protocol_of(&cp).map_err(|e| retry(e.message))? == OCPP201 {
        json!({ "id": ocpp_id, "expiryDateTime": expiry, "idToken": { "idToken": id_tag, "type": "ISO14443" }, "evseId": number })
    } else {
        json!({ "connectorId": number, "expiryDate": expiry, "idTag": id_tag, "reservationId": ocpp_id })
    };
    let request_id = ocpp::call(&cp, "ReserveNow", &payload).map_err(retry)?;
    db::execute(
        "UPDATE reservations SET ocpp_reservation_id = $2, hold_request_id = $3, hold_status = 'pending' WHERE id = $1",
        &[&id, &ocpp_id, &request_id],
    )
    .map(drop)
    .map_err(retry)
}

/// A cancelled booking: its ReserveNow is not sent, or the charge point lets it go.
pub fn cancelled(id: Uuid) -> Result<(), joule_sdk::api::ApiError> {
    timers::cancel(&key(id))?;
    let rows = db::query(
        "SELECT r.ocpp_reservation_id, s.charge_point_id FROM reservations r JOIN stations s ON s.id = r.station_id
         WHERE r.id = $1 AND r.ocpp_reservation_id IS NOT NULL",
        &[&id],
    )?;
    let Some(row) = rows.first() else { return Ok(()) };
    let (ocpp_id, cp): (i64, Option<String>) = (row.get("ocpp_reservation_id")?, row.get("charge_point_id")?);
    let Some(cp) = cp else { return Ok(()) };
    let request_id = ocpp::call(&cp, "CancelReservation", &json!({ "reservationId": ocpp_id }))?;
    db::execute(
        "UPDATE reservations SET hold_request_id = $2, hold_status = 'cancelling', hold_reason = NULL WHERE id = $1",
        &[&id, &request_id],
    )?;
    Ok(())
}

/// The booking a charge point's reservation number names.
pub fn booking_of(ocpp_id: i64) -> Result<Option<Uuid>, db::Error> {
    let rows = db::query("SELECT id FROM reservations WHERE ocpp_reservation_id = $1", &[&ocpp_id])?;
    rows.first().map(|row| row.get("id")).transpose()
}

/// Records how a ReserveNow or CancelReservation went; false when `request_id` is neither.
pub fn result(request_id: &str, status: &str, reason: Option<&str>) -> Result<bool, db::Error> {
    let status = match db::query("SELECT hold_status FROM reservations WHERE hold_request_id = $1", &[&request_id])?.first() {
        None => return Ok(false),
        Some(row) if row.get::<Option<String>>("hold_status")?.as_deref() == Some("cancelling") => {
            if status == "accepted" { "cancelled" } else { status }
        }
        Some(_) => status,
    };
    db::execute(
        "UPDATE reservations SET hold_status = $2, hold_reason = $3 WHERE hold_request_id = $1",
        &[&request_id, &status, &reason],
    )?;
    Ok(true)
}

fn next_reservation_id() -> Result<i64, db::Error> {
    let rows = db::query(
        "UPDATE ocpp_counters SET value = value % 2147483647 + 1 WHERE name = 'reservation_id' RETURNING value",
        &[],
    )?;
    Ok(rows.first().map(|row| row.get("value")).transpose()?.unwrap_or(1))
}
