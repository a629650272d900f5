//! The `charge_points` table: which OCPP charge point speaks for a station, its password
//! hash, and what it last said of itself.

use chrono::{DateTime, Utc};
use joule_sdk::db::{self, Error, Row};
use uuid::Uuid;

use crate::station::Ocpp;

/// The columns [`from_row`] reads. Only whether a password is set is read, never its hash.
pub const COLUMNS: &str = "station_id, charge_point_id, protocol, (password_hash IS NOT NULL) AS password_set, \
                           vendor, model, serial_number, firmware_version, last_boot_at, last_seen_at, offline_since";

/// What a connecting charge point is checked against.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub protocol: Option<String>,
    pub password_hash: Option<String>,
}

/// What a charge point says of itself at boot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BootInfo {
    pub vendor: String,
    pub model: String,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
}

pub fn of_station(station_id: Uuid) -> Result<Option<Ocpp>, Error> {
    let rows = db::query(&format!("SELECT {COLUMNS} FROM charge_points WHERE station_id = $1"), &[&station_id])?;
    rows.first().map(from_row).transpose()
}

pub fn from_row(row: Row<'_>) -> Result<Ocpp, Error> {
    Ok(Ocpp {
        charge_point_id: row.get("charge_point_id")?,
        protocol: row.get("protocol")?,
        password_set: row.get("password_set")?,
        vendor: row.get("vendor")?,
        model: row.get("model")?,
        serial_number: row.get("serial_number")?,
        firmware_version: row.get("firmware_version")?,
        last_boot_at: row.get("last_boot_at")?,
        last_seen_at: row.get("last_seen_at")?,
        offline_since: row.get("offline_since")?,
    })
}

/// Writes a station's change of charge point. Another charge point id is another charge
/// point: its row is replaced, so the password hash and boot info go with the old one.
pub fn replace(station_id: Uuid, before: Option<&Ocpp>, after: Option<&Ocpp>) -> Result<(), Error> {
    match (before, after) {
        (Some(before), Some(after)) if before.charge_point_id == after.charge_point_id => {
            db::execute(
                "UPDATE charge_points SET protocol = $2 WHERE station_id = $1",
                &[&station_id, &after.protocol],
            )?;
        }
        (before, after) => {
            if before.is_some() {
                db::execute("DELETE FROM charge_points WHERE station_id = $1", &[&station_id])?;
            }
            if let Some(after) = after {
                insert(station_id, after)?;
            }
        }
    }
    Ok(())
}

pub fn insert(station_id: Uuid, ocpp: &Ocpp) -> Result<(), Error> {
    db::execute(
        "INSERT INTO charge_points (station_id, charge_point_id, protocol) VALUES ($1, $2, $3)",
        &[&station_id, &ocpp.charge_point_id, &ocpp.protocol],
    )
    .map(drop)
}

/// Takes the charge point's turn before anything is read: a write that changes nothing, so
/// its CALL runs as the writer on SQLite from the first statement (no other commit can
/// overtake what it read) and holds its row on Postgres. Returns the charge point's
/// station, if it still has one.
pub fn take_turn(charge_point_id: &str) -> Result<Option<Uuid>, Error> {
    let rows = db::query(
        "UPDATE charge_points SET charge_point_id = charge_point_id WHERE charge_point_id = $1 RETURNING station_id",
        &[&charge_point_id],
    )?;
    rows.first().map(|row| row.get("station_id")).transpose()
}

/// The station that has `charge_point_id`, if any.
pub fn owner(charge_point_id: &str) -> Result<Option<Uuid>, Error> {
    let rows = db::query("SELECT station_id FROM charge_points WHERE charge_point_id = $1", &[&charge_point_id])?;
    rows.first().map(|row| row.get("station_id")).transpose()
}

pub fn credentials(charge_point_id: &str) -> Result<Option<Credentials>, Error> {
    let rows =
        db::query("SELECT protocol, password_hash FROM charge_points WHERE charge_point_id = $1", &[&charge_point_id])?;
    let Some(row) = rows.first() else { return Ok(None) };
    Ok(Some(Credentials { protocol: row.get("protocol")?, password_hash: row.get("password_hash")? }))
}

/// Sets the password hash; returns whether the station has a charge point.
pub fn set_password(station_id: Uuid, hash: &str, at: DateTime<Utc>) -> Result<bool, Error> {
    let changed =
        db::execute("UPDATE charge_points SET password_hash = $2 WHERE station_id = $1", &[&station_id, &hash])?;
    if changed > 0 {
        db::execute("UPDATE stations SET updated_at = $2 WHERE id = $1", &[&station_id, &at])?;
    }
    Ok(changed > 0)
}

/// Records a boot; the station changes (its `ocpp` shows the boot), so `updated_at` moves too.
/// Returns since when the charge point had been offline, if it had.
pub fn record_boot(
    station_id: Uuid,
    boot: &BootInfo,
    protocol: &str,
    at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Error> {
    let was_offline = offline_since(station_id)?;
    db::execute(
        "UPDATE charge_points SET vendor = $2, model = $3, serial_number = $4, firmware_version = $5,
                                  last_boot_at = $6, last_seen_at = $6, offline_since = NULL, speaks = $7
         WHERE station_id = $1",
        &[&station_id, &boot.vendor, &boot.model, &boot.serial_number, &boot.firmware_version, &at, &protocol],
    )?;
    db::execute("UPDATE stations SET updated_at = $2 WHERE id = $1", &[&station_id, &at])?;
    Ok(was_offline)
}

/// Records that the charge point spoke; returns since when it had been offline, if it had
/// (the station then changes, and `updated_at` moves). Otherwise not a change of the station.
pub fn seen(station_id: Uuid, at: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Error> {
    let was_offline = offline_since(station_id)?;
    db::execute(
        "UPDATE charge_points SET last_seen_at = $2, offline_since = NULL WHERE station_id = $1",
        &[&station_id, &at],
    )?;
    if was_offline.is_some() {
        db::execute("UPDATE stations SET updated_at = $2 WHERE id = $1", &[&station_id, &at])?;
    }
    Ok(was_offline)
}

/// Since when the station's charge point is offline. Read after the charge point's turn was
/// taken ([`take_turn`]), so no other write can slip in before the caller's own.
fn offline_since(station_id: Uuid) -> Result<Option<DateTime<Utc>>, Error> {
    let rows = db::query("SELECT offline_since FROM charge_points WHERE station_id = $1", &[&station_id])?;
    Ok(rows.first().map(|row| row.get::<Option<DateTime<Utc>>>("offline_since")).transpose()?.flatten())
}

/// Marks the charge point offline since `since`, if nothing was heard from it after
/// `last_heard`; returns whether it was marked (the station changes).
pub fn went_silent(charge_point_id: &str, last_heard: DateTime<Utc>, since: DateTime<Utc>) -> Result<Option<Uuid>, Error> {
    let rows = db::query(
        "UPDATE charge_points SET offline_since = $3
         WHERE charge_point_id = $1 AND offline_since IS NULL AND last_seen_at <= $2
         RETURNING station_id",
        &[&charge_point_id, &last_heard, &since],
    )?;
    let Some(station_id) = rows.first().map(|row| row.get::<Uuid>("station_id")).transpose()? else { return Ok(None) };
    db::execute("UPDATE stations SET updated_at = $2 WHERE id = $1", &[&station_id, &since])?;
    Ok(Some(station_id))
}
