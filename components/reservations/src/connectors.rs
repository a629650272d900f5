//! The copy of stations and connectors that bookings and sessions check against.

use chrono::{DateTime, Utc};
use joule_sdk::api::{ApiError, Problems};
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

/// Takes the connector's turn, as [`take_turn`], and returns its status and the station's
/// copy; the error names the field at fault. A station's copy commits with its connectors,
/// so when the turn finds no connector but the next statement finds the station, the copy
/// arrived in between (Postgres reads each statement afresh): the second turn decides.
pub fn turn_and_station(station_id: Uuid, connector: &str) -> Result<(String, StationCopy), ApiError> {
    let turn = take_turn(station_id, connector)?;
    let copy = station(station_id)?.ok_or_else(|| Problems::one("stationId", "names no station"))?;
    let status = match turn {
        Some(status) => status,
        None => take_turn(station_id, connector)?
            .ok_or_else(|| Problems::one("connectorId", "names no connector of this station"))?,
    };
    Ok((status, copy))
}

/// A tariff's newest version, as its events said.
pub struct TariffCopy {
    pub version: i64,
    pub rule: String,
    /// When the version is in force: from `valid_from` (inclusive) to `valid_until` (exclusive).
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

impl TariffCopy {
    /// Whether a session starting at `at` can be priced with it.
    pub fn in_force_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from.is_none_or(|from| from <= at) && self.valid_until.is_none_or(|until| at < until)
    }
}

/// The tariff's newest version, if its events have arrived.
pub fn tariff(id: &str) -> Result<Option<TariffCopy>, Error> {
    let rows = db::query("SELECT version, rule, valid_from, valid_until FROM tariffs WHERE id = $1", &[&id])?;
    rows.first()
        .map(|row| {
            Ok(TariffCopy {
                version: row.get("version")?,
                rule: row.get("rule")?,
                valid_from: row.get("valid_from")?,
                valid_until: row.get("valid_until")?,
            })
        })
        .transpose()
}
