//! The copy of stations and connectors that bookings and sessions check against.

use joule_sdk::db::{self, Error};
use uuid::Uuid;

/// What a station's copy holds.
pub struct StationCopy {
    pub time_zone: String,
    pub tariff_id: Option<String>,
}

pub fn station(id: Uuid) -> Result<Option<StationCopy>, Error> {
    let rows = db::query("SELECT time_zone, tariff_id FROM stations WHERE id = $1", &[&id])?;
    rows.first()
        .map(|row| Ok(StationCopy { time_zone: row.get("time_zone")?, tariff_id: row.get("tariff_id")? }))
        .transpose()
}

/// Takes the connector's turn: every booking and session start of one connector runs one
/// at a time from here to its commit (a row lock on Postgres, the writer on SQLite).
/// Returns the connector's status, or `None` if the station has no such connector.
pub fn take_turn(station: Uuid, connector: &str) -> Result<Option<String>, Error> {
    let changed = db::execute(
        "UPDATE connectors SET turns = turns + 1 WHERE station_id = $1 AND connector_id = $2",
        &[&station, &connector],
    )?;
    if changed == 0 {
        return Ok(None);
    }
    let rows = db::query("SELECT status FROM connectors WHERE station_id = $1 AND connector_id = $2", &[&station, &connector])?;
    rows.first().map(|row| row.get("status")).transpose()
}

/// The tariff version and pricing rule in force now, if the tariff's events have arrived.
pub fn tariff(id: &str) -> Result<Option<(i64, String)>, Error> {
    let rows = db::query("SELECT version, rule FROM tariffs WHERE id = $1", &[&id])?;
    rows.first().map(|row| Ok((row.get("version")?, row.get("rule")?))).transpose()
}
