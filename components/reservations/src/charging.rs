//! The one session model that REST and OCPP share: starting a session on a connector,
//! recording meter readings, and completing it, with the event billing prices.

use chrono::{DateTime, TimeDelta, Utc};
use joule_sdk::api::{self, ApiError, Problems};
use joule_sdk::db::{self, Row};
use joule_sdk::pricing;
use ocpi_tariff::limits::{MAX_PERIOD_WH, MAX_SESSION_DAYS};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::connectors::{self, TariffCopy};
use crate::limits::{MAX_READINGS, MAX_REGISTER_WH};
use crate::meter_events::{self, Reading};
use crate::expiry;

type Result<T> = std::result::Result<T, ApiError>;

const COLUMNS: &str = "id, station_id, connector_id, driver_id, reservation_id, status, meter_start_wh, meter_stop_wh, \
                       started_at, stopped_at, unplugged_at, time_zone, tariff_id, tariff_version, rule, rule_version, \
                       charge_point_id, transaction_id, charging_ended_at, meter_start_pending, stop_status, stop_reason";

/// Connector statuses a session cannot start on.
const OUT_OF_SERVICE: [&str; 2] = ["Faulted", "Unavailable"];

/// The charge point's side of a session it started.
pub struct OcppStart {
    pub charge_point_id: String,
    pub transaction_id: String,
    pub id_tag: String,
}

/// What a session starts with.
pub struct Start {
    pub station: Uuid,
    pub connector_id: String,
    pub driver_id: String,
    /// The booking the session fulfils, as the driver named it.
    pub reservation: Option<Uuid>,
    /// Take up the driver's own booking that holds the connector now, unnamed: a charge
    /// point knows nothing of booking ids.
    pub claim_own_booking: bool,
    pub meter_start_wh: i64,
    /// The start carried no register reading: the first reading becomes the start.
    pub meter_start_pending: bool,
    pub started_at: DateTime<Utc>,
    pub ocpp: Option<OcppStart>,
}

/// How a session ends.
pub struct Stop {
    pub meter_stop_wh: i64,
    /// Charging ended; parking follows until `unplugged_at`.
    pub stopped_at: DateTime<Utc>,
    pub unplugged_at: DateTime<Utc>,
}

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
        "chargingEndedAt": time(row.get("charging_ended_at")?),
        "stoppedAt": time(row.get("stopped_at")?),
        "unpluggedAt": time(row.get("unplugged_at")?),
        "timeZone": row.get::<String>("time_zone")?,
        "tariffId": row.get::<Option<String>>("tariff_id")?,
        "tariffVersion": row.get::<Option<i64>>("tariff_version")?,
        "rule": row.get::<Option<String>>("rule")?,
        "ruleVersion": row.get::<Option<i64>>("rule_version")?,
        "chargePointId": row.get::<Option<String>>("charge_point_id")?,
        "transactionId": row.get::<Option<String>>("transaction_id")?,
        "meterStartPending": row.get::<bool>("meter_start_pending")?,
        "remoteStop": row.get::<Option<String>>("stop_status")?.map(|status| -> std::result::Result<Value, db::Error> {
            Ok(json!({ "status": status, "reason": row.get::<Option<String>>("stop_reason")? }))
        }).transpose()?,
    }))
}

/// A session as the API shows it; the bookkeeping flag stays inside.
fn shown(mut session: Value) -> Value {
    if let Some(fields) = session.as_object_mut() {
        fields.remove("meterStartPending");
    }
    session
}

/// A page of sessions, as the API shows them: a driver's own, or for an operator the named
/// driver's (`?driverId=`) or everyone's.
pub fn list(request: &spin_sdk::http::Request) -> Result<spin_sdk::http::Response> {
    api::owned_page(request, "sessions", COLUMNS, crate::DRIVER, |row| session(row).map(shown))
}

/// The stored session, as the API shows it.
pub fn find(id: Uuid) -> std::result::Result<Option<Value>, db::Error> {
    load(id).map(|s| s.map(shown))
}

/// The stored session with its bookkeeping, which a charge point's messages work on.
pub fn load(id: Uuid) -> std::result::Result<Option<Value>, db::Error> {
    let rows = db::query(&format!("SELECT {COLUMNS} FROM sessions WHERE id = $1"), &[&id])?;
    rows.first().map(session).transpose()
}

/// The session a charge point's transaction started, if any.
pub fn find_transaction(charge_point_id: &str, transaction_id: &str) -> std::result::Result<Option<Value>, db::Error> {
    let rows = db::query(
        &format!("SELECT {COLUMNS} FROM sessions WHERE charge_point_id = $1 AND transaction_id = $2"),
        &[&charge_point_id, &transaction_id],
    )?;
    rows.first().map(session).transpose()
}

/// The session charging on a connector now, if any.
pub fn active_on(station: Uuid, connector_id: &str) -> std::result::Result<Option<Value>, db::Error> {
    let rows = db::query(
        &format!("SELECT {COLUMNS} FROM sessions WHERE station_id = $1 AND connector_id = $2 AND status = 'active'"),
        &[&station, &connector_id],
    )?;
    rows.first().map(session).transpose()
}

pub fn id_of(session: &Value) -> Uuid {
    session["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()).expect("stored")
}

pub fn started_at(session: &Value) -> DateTime<Utc> {
    session["startedAt"].as_str().and_then(|t| t.parse().ok()).expect("stored")
}

/// Whether `new` may start: the connector in service and free, and not held by another
/// driver's booking. Its station's copy, and the booking the session takes up.
fn admit(new: &Start, now: DateTime<Utc>) -> Result<(connectors::StationCopy, Option<Uuid>)> {
    // The turn first: a write, so on SQLite the start runs as the writer from here on.
    let (status, copy) = connectors::turn_and_station(new.station, &new.connector_id)?;
    if OUT_OF_SERVICE.contains(&status.as_str()) {
        return Err(ApiError::conflict("connector_unavailable", format!("the connector is {status}")));
    }
    if active_on(new.station, &new.connector_id)?.is_some() {
        return Err(ApiError::conflict("connector_busy", "a session is already charging on this connector"));
    }
    let mut reservation = new.reservation;
    // A reservation covering the start keeps the connector for its driver.
    // Holding bookings never overlap, so only the last to start by now can cover now.
    // A no-show whose timer is yet to be delivered still reads `confirmed`, and keeps nothing.
    let latest = db::query(
        "SELECT id, driver_id, status, ends_at FROM reservations
         WHERE station_id = $1 AND connector_id = $2 AND status IN ('confirmed', 'fulfilled') AND starts_at <= $3
         ORDER BY starts_at DESC LIMIT 1",
        &[&new.station, &new.connector_id, &new.started_at],
    )?;
    if let Some(holder) = latest.first() {
        let (status, end) = expiry::effective(holder, now)?;
        let (holder_id, holder_driver): (Uuid, String) = (holder.get("id")?, holder.get("driver_id")?);
        let holding = status == "confirmed" && end > new.started_at;
        let theirs = holder_driver != new.driver_id || reservation.is_some_and(|r| r != holder_id);
        if holding && theirs {
            return Err(ApiError::conflict("connector_reserved", "the connector is reserved for someone else now"));
        }
        if holding && new.claim_own_booking {
            reservation = Some(holder_id);
        }
    }
    Ok((copy, reservation))
}

/// Whether the driver could start on the connector now; a remote start asks this first.
pub fn startable(station: Uuid, connector_id: &str, driver_id: &str) -> Result<()> {
    let now = Utc::now();
    let probe = Start {
        station,
        connector_id: connector_id.to_string(),
        driver_id: driver_id.to_string(),
        reservation: None,
        claim_own_booking: true,
        meter_start_wh: 0,
        meter_start_pending: false,
        started_at: now,
        ocpp: None,
    };
    admit(&probe, now).map(drop)
}

/// Starts a session: the connector must be in service and free, and not held by another
/// driver's booking; the tariff and pricing rule in force are pinned to it.
pub fn start(new: Start, now: DateTime<Utc>) -> Result<Value> {
    let (copy, reservation) = admit(&new, now)?;
    if let Some(reservation) = reservation {
        let rows = db::query(
            "SELECT driver_id, station_id, connector_id, status, ends_at FROM reservations WHERE id = $1",
            &[&reservation],
        )?;
        let row = rows.first().ok_or_else(|| Problems::one("reservationId", "names no reservation"))?;
        let matches = row.get::<String>("driver_id")? == new.driver_id
            && row.get::<Uuid>("station_id")? == new.station
            && row.get::<String>("connector_id")? == new.connector_id;
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
        && !tariff.in_force_at(new.started_at)
    {
        return Err(ApiError::conflict(
            "tariff_not_in_force",
            format!("the station's tariff {id:?} is not in force at {}", api::time(new.started_at)),
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
    let ocpp = new.ocpp.as_ref();
    db::execute(
        "INSERT INTO sessions (id, station_id, connector_id, driver_id, reservation_id, status, meter_start_wh, started_at,
                               time_zone, tariff_id, tariff_version, rule, rule_version,
                               charge_point_id, transaction_id, id_tag, meter_start_pending)
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        &[
            &id,
            &new.station,
            &new.connector_id,
            &new.driver_id,
            &reservation,
            &new.meter_start_wh,
            &new.started_at,
            &copy.time_zone,
            &copy.tariff_id,
            &tariff.as_ref().map(|t| t.version),
            &tariff.as_ref().map(|t| t.rule.clone()),
            &rule_version.map(i64::from),
            &ocpp.map(|o| o.charge_point_id.clone()),
            &ocpp.map(|o| o.transaction_id.clone()),
            &ocpp.map(|o| o.id_tag.clone()),
            &new.meter_start_pending,
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
    Ok(started)
}

/// The session's register readings, oldest first, its start the first: `(taken at, Wh)`.
pub fn readings(session: &Value) -> Result<Vec<(DateTime<Utc>, i64)>> {
    let mut readings = vec![(started_at(session), session["meterStartWh"].as_i64().expect("stored"))];
    let rows =
        db::query("SELECT taken_at, energy_wh FROM meter_values WHERE session_id = $1 ORDER BY taken_at", &[&id_of(session)])?;
    for row in rows.iter() {
        readings.push((row.get("taken_at")?, row.get("energy_wh")?));
    }
    Ok(readings)
}

/// The session's last register reading: its newest meter value, else its start.
pub fn last_reading(session: &Value) -> Result<(DateTime<Utc>, i64)> {
    let rows = db::query(
        "SELECT taken_at, energy_wh FROM meter_values WHERE session_id = $1 ORDER BY taken_at DESC LIMIT 1",
        &[&id_of(session)],
    )?;
    Ok(match rows.first() {
        Some(row) => (row.get("taken_at")?, row.get("energy_wh")?),
        None => (started_at(session), session["meterStartWh"].as_i64().expect("stored")),
    })
}

/// The number of readings a session holds.
pub fn reading_count(id: Uuid) -> Result<i64> {
    let rows = db::query("SELECT count(*) AS n FROM meter_values WHERE session_id = $1", &[&id])?;
    Ok(rows.first().map(|row| row.get::<i64>("n")).transpose()?.unwrap_or(0))
}

/// Stores a reading that has been checked against the session's others.
pub fn insert_reading(id: Uuid, at: DateTime<Utc>, energy_wh: i64, power_w: Option<i64>) -> Result<()> {
    db::execute(
        "INSERT INTO meter_values (session_id, taken_at, energy_wh, power_w) VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_id, taken_at) DO NOTHING",
        &[&id, &at, &energy_wh, &power_w],
    )?;
    Ok(())
}

/// A charge point's reading, which may come late or twice (queued while it was offline):
/// kept when it fits between the readings around it, else dropped; the first reading of a
/// session whose start had none becomes its start. Returns whether it was kept; a kept
/// reading is published.
pub fn record_reading(session: &Value, at: DateTime<Utc>, energy_wh: i64, power_w: Option<i64>) -> Result<bool> {
    let id = id_of(session);
    let started = started_at(session);
    // Beyond what an invoice can price: past the longest session, or a register jump past
    // a period's most (checked against the neighbours below).
    let within = at >= started && at.signed_duration_since(started) <= TimeDelta::days(MAX_SESSION_DAYS);
    if !(0..=MAX_REGISTER_WH as i64).contains(&energy_wh) || !within {
        return Ok(false);
    }
    if session["meterStartPending"] == true {
        db::execute(
            "UPDATE sessions SET meter_start_wh = $2, meter_start_pending = FALSE WHERE id = $1 AND meter_start_pending",
            &[&id, &energy_wh],
        )?;
        meter_events::publish(session, &Reading { at, energy_wh, meter_start_wh: energy_wh, power_w })?;
        return Ok(true);
    }
    // The readings around it: the one at or before (else the start), and the one after.
    let before = db::query(
        "SELECT taken_at, energy_wh FROM meter_values WHERE session_id = $1 AND taken_at <= $2 ORDER BY taken_at DESC LIMIT 1",
        &[&id, &at],
    )?;
    let after = db::query(
        "SELECT energy_wh FROM meter_values WHERE session_id = $1 AND taken_at > $2 ORDER BY taken_at LIMIT 1",
        &[&id, &at],
    )?;
    let (taken, floor) = match before.first() {
        Some(row) => (row.get::<DateTime<Utc>>("taken_at")? == at, row.get::<i64>("energy_wh")?),
        None => (false, session["meterStartWh"].as_i64().expect("stored")),
    };
    let ceiling = after.first().map(|row| row.get::<i64>("energy_wh")).transpose()?;
    let step = |low: i64, high: i64| low <= high && high - low <= MAX_PERIOD_WH as i64;
    let fits = step(floor, energy_wh) && ceiling.is_none_or(|wh| step(energy_wh, wh));
    if !fits || taken || reading_count(id)? >= MAX_READINGS {
        return Ok(false);
    }
    insert_reading(id, at, energy_wh, power_w)?;
    let meter_start_wh = session["meterStartWh"].as_i64().expect("stored");
    meter_events::publish(session, &Reading { at, energy_wh, meter_start_wh, power_w })?;
    Ok(true)
}

/// Where the meter last moved: a session whose register stood still from some reading to
/// its stop stopped charging at that reading. `None` when it moved up to the stop.
pub fn flat_since(readings: &[(DateTime<Utc>, i64)], meter_stop_wh: i64) -> Option<DateTime<Utc>> {
    let mut since = None;
    for (at, wh) in readings.iter().skip(1) {
        if *wh == meter_stop_wh {
            since.get_or_insert(*at);
        } else {
            since = None;
        }
    }
    since
}

/// Charging ended or resumed on a connector, as its charge point reported: the active
/// session's parking starts at `at`, or (`ended` false) charging goes on, unless a later
/// report already said otherwise.
pub fn charging_state(station: Uuid, connector_id: &str, ended: bool, at: DateTime<Utc>) -> std::result::Result<(), db::Error> {
    if ended {
        db::execute(
            "UPDATE sessions SET charging_ended_at = $3
             WHERE station_id = $1 AND connector_id = $2 AND status = 'active' AND charging_ended_at IS NULL
               AND started_at <= $3",
            &[&station, &connector_id, &at],
        )?;
    } else {
        db::execute(
            "UPDATE sessions SET charging_ended_at = NULL
             WHERE station_id = $1 AND connector_id = $2 AND status = 'active' AND charging_ended_at <= $3",
            &[&station, &connector_id, &at],
        )?;
    }
    Ok(())
}

/// Completes a session that has been checked to be active; the event carries what billing
/// prices: the periods between readings, up to where charging ended.
pub fn complete(session: &Value, stop: &Stop) -> Result<Value> {
    let id = id_of(session);
    let periods = periods(session, stop)?;
    db::execute(
        "UPDATE sessions SET status = 'completed', meter_stop_wh = $2, stopped_at = $3, unplugged_at = $4 WHERE id = $1",
        &[&id, &stop.meter_stop_wh, &stop.stopped_at, &stop.unplugged_at],
    )?;
    let completed = find(id)?.expect("just updated");
    let mut data = event_data(&completed);
    data["periods"] = json!(periods);
    api::publish("charging.session.completed.v1", &data)?;
    Ok(completed)
}

/// The charging periods between consecutive readings, from the start to where charging
/// ended; energy a meter still counted after that belongs to the last period.
fn periods(session: &Value, stop: &Stop) -> Result<Vec<Value>> {
    let mut readings: Vec<_> = readings(session)?.into_iter().filter(|(at, _)| *at < stop.stopped_at).collect();
    readings.push((stop.stopped_at, stop.meter_stop_wh));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        format!("2026-03-02T16:{minute:02}:00Z").parse().unwrap()
    }

    #[test]
    fn the_meter_standing_still_until_the_stop_ends_charging_where_it_stopped() {
        let start = (at(0), 1000);
        assert_eq!(flat_since(&[start], 1000), None, "nothing but the start says nothing");
        assert_eq!(flat_since(&[start, (at(20), 6500), (at(40), 13800)], 13800), Some(at(40)));
        assert_eq!(flat_since(&[start, (at(20), 13800), (at(40), 13800)], 13800), Some(at(20)));
        assert_eq!(flat_since(&[start, (at(20), 6500)], 13800), None, "it moved up to the stop");
        assert_eq!(flat_since(&[start, (at(20), 13800), (at(30), 13900), (at(40), 13900)], 13900), Some(at(30)));
    }
}
