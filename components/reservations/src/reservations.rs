//! `/api/v1/reservations`: half-open intervals per connector, `[startsAt, endsAt)`.

use chrono::{DateTime, Utc};
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Problems, Reader};
use joule_sdk::db::{self, Row};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::{DRIVER, connectors, expiry, holds, limits, settings};

type Result<T = Response> = std::result::Result<T, ApiError>;

const COLUMNS: &str =
    "id, station_id, connector_id, driver_id, starts_at, ends_at, status, session_id, created_at, ocpp_reservation_id, hold_status, hold_reason";

/// A start this far in the past still counts as now, for clocks that are slightly apart.
const CLOCK_SKEW_SECONDS: i64 = 60;

fn reservation(row: Row<'_>, now: DateTime<Utc>) -> std::result::Result<Value, db::Error> {
    let status: String = row.get("status")?;
    let ends_at: DateTime<Utc> = row.get("ends_at")?;
    Ok(json!({
        "id": row.get::<Uuid>("id")?,
        "stationId": row.get::<Uuid>("station_id")?,
        "connectorId": row.get::<String>("connector_id")?,
        "driverId": row.get::<String>("driver_id")?,
        "startsAt": api::time(row.get("starts_at")?),
        "endsAt": api::time(ends_at),
        "status": expiry::effective_status(&status, ends_at, now),
        "sessionId": row.get::<Option<Uuid>>("session_id")?,
        "createdAt": api::time(row.get("created_at")?),
        "chargePointHold": match row.get::<Option<String>>("hold_status")? {
            Some(status) => json!({
                "ocppReservationId": row.get::<Option<i64>>("ocpp_reservation_id")?,
                "status": status,
                "reason": row.get::<Option<String>>("hold_reason")?,
            }),
            None => Value::Null,
        },
    }))
}

pub fn create(request: Request, _: Params) -> Result {
    let caller = Caller::require()?;
    let body = api::read_json(&request)?;
    let now = Utc::now();
    let mut problems = Problems::new();
    let reader = Reader::body(&body, &mut problems);
    reader.only(&["stationId", "connectorId", "driverId", "startsAt", "endsAt"], &mut problems);
    let station_id = reader.string("stationId", 36, &mut problems);
    let connector_id = reader.string("connectorId", 36, &mut problems);
    let driver_id = reader.optional_string("driverId", 64, &mut problems);
    let starts_at = reader.timestamp("startsAt", &mut problems);
    let ends_at = reader.timestamp("endsAt", &mut problems);
    if let (Some(starts), Some(ends)) = (starts_at, ends_at) {
        limits::booking(starts, ends, now, settings::max_booking(), settings::max_booking_lead(), &mut problems);
        if starts < now - chrono::Duration::seconds(CLOCK_SKEW_SECONDS) {
            problems.add("startsAt", "must not be in the past");
        }
    }
    let station = station_id.as_deref().and_then(|id| Uuid::parse_str(id).ok());
    if station_id.is_some() && station.is_none() {
        problems.add("stationId", "names no station");
    }
    problems.finish()?;
    let driver_id = caller.driver_id(driver_id.expect("checked").as_deref())?;
    let (station, connector_id) = (station.expect("checked"), connector_id.expect("checked"));
    let (starts_at, ends_at) = (starts_at.expect("checked"), ends_at.expect("checked"));

    // The turn first: a write, so on SQLite the whole booking runs as the writer and never
    // reads a snapshot another booking's commit has overtaken.
    connectors::turn_and_station(station, &connector_id)?;
    // Holding bookings of a connector never overlap one another, so the one that starts last
    // before this one ends is the only one that can overlap it: one index probe, however many.
    // A no-show whose timer is yet to be delivered still reads `confirmed`, and holds nothing.
    let latest = db::query(
        "SELECT id, status, ends_at FROM reservations
         WHERE station_id = $1 AND connector_id = $2 AND status IN ('confirmed', 'fulfilled') AND starts_at < $3
         ORDER BY starts_at DESC LIMIT 1",
        &[&station, &connector_id, &ends_at],
    )?;
    if let Some(clash) = latest.first() {
        let (status, end) = expiry::effective(clash, now)?;
        if end > starts_at && status != "no_show" {
            let other: Uuid = clash.get("id")?;
            return Err(ApiError::conflict("reservation_conflict", "the connector is already reserved for part of that time")
                .with_details(json!({ "conflictingReservationId": other })));
        }
    }
    let id = joule_sdk::ids::time_ordered();
    db::execute(
        "INSERT INTO reservations (id, station_id, connector_id, driver_id, starts_at, ends_at, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'confirmed', $7, $7)",
        &[&id, &station, &connector_id, &driver_id, &starts_at, &ends_at, &now],
    )?;
    expiry::schedule(id, ends_at)?;
    holds::schedule(id, station, starts_at)?;
    let created = find(id, now)?.expect("just inserted");
    api::publish("reservation.created.v1", &event_data(&created))?;
    let mut response = api::json(201, &created);
    response.set_header("location", format!("/api/v1/reservations/{id}"));
    Ok(response)
}

pub fn find(id: Uuid, now: DateTime<Utc>) -> std::result::Result<Option<Value>, db::Error> {
    let rows = db::query(&format!("SELECT {COLUMNS} FROM reservations WHERE id = $1"), &[&id])?;
    rows.first().map(|row| reservation(row, now)).transpose()
}

pub fn get(_: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    let id = reservation_id(&params)?;
    Ok(api::json(200, &visible(&caller, id, Utc::now())?))
}

/// The reservation, if the caller may see it: another driver's is as unknown as a missing one.
fn visible(caller: &Caller, id: Uuid, now: DateTime<Utc>) -> Result<Value> {
    caller.visible(find(id, now)?, |r| r["driverId"].as_str().unwrap_or_default(), "reservation", &id.to_string())
}

/// Reservations, oldest first, a page at a time: a driver's own, or for an operator the
/// named driver's (`?driverId=`) or everyone's.
pub fn list(request: Request, _: Params) -> Result {
    let now = Utc::now();
    api::owned_page(&request, "reservations", COLUMNS, DRIVER, |row| reservation(row, now))
}

/// Cancels a confirmed reservation.
pub fn cancel(_: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    let id = reservation_id(&params)?;
    let now = Utc::now();
    visible(&caller, id, now)?;
    // A no-show whose timer is yet to be delivered still reads `confirmed`: it is past cancelling.
    let changed = db::execute(
        "UPDATE reservations SET status = 'cancelled', updated_at = $2
         WHERE id = $1 AND status = 'confirmed' AND ends_at > $3",
        &[&id, &now, &expiry::cutoff(now)],
    )?;
    let found = find(id, now)?.ok_or_else(|| ApiError::not_found("reservation", &id.to_string()))?;
    if changed == 0 {
        let status = found["status"].as_str().unwrap_or_default();
        return Err(ApiError::conflict("reservation_not_active", format!("the reservation is {status}, not confirmed")));
    }
    expiry::cancel(id)?;
    holds::cancelled(id)?;
    api::publish("reservation.cancelled.v1", &event_data(&found))?;
    Ok(api::json(200, &found))
}

fn reservation_id(params: &Params) -> Result<Uuid> {
    let raw = params.get("id").unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("reservation", raw))
}

/// A reservation as its events carry it, with the id also under `reservationId`.
fn event_data(reservation: &Value) -> Value {
    let mut data = reservation.clone();
    data["reservationId"] = reservation["id"].clone();
    data
}
