//! The stations schema. Ids are UUIDv7, so ordering by id is ordering by creation,
//! which keyset pagination relies on.

use chrono::{DateTime, Utc};
use joule_sdk::api::Page;
use joule_sdk::db::{self, Error, Row};
use uuid::Uuid;

use crate::charge_points;
use crate::station::{Connector, Location, Station};

const STATION_COLUMNS: &str = "id, name, lat, lng, address, time_zone, tariff_id, created_at, updated_at";
const CONNECTOR_COLUMNS: &str = "station_id, connector_id, type, max_power_kw, status, ocpp_status";

pub fn insert(station: &Station) -> Result<(), Error> {
    db::execute(
        "INSERT INTO stations (id, name, lat, lng, address, time_zone, tariff_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &station.id,
            &station.name,
            &station.location.lat,
            &station.location.lng,
            &station.address,
            &station.time_zone,
            &station.tariff_id,
            &station.created_at,
            &station.updated_at,
        ],
    )?;
    insert_connectors(station)?;
    match &station.ocpp {
        Some(ocpp) => charge_points::insert(station.id, ocpp),
        None => Ok(()),
    }
}

fn insert_connectors(station: &Station) -> Result<(), Error> {
    for (position, connector) in station.connectors.iter().enumerate() {
        db::execute(
            "INSERT INTO connectors (station_id, connector_id, position, type, max_power_kw, status, ocpp_status)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &station.id,
                &connector.connector_id,
                &(position as i64),
                &connector.kind,
                &connector.max_power_kw,
                &connector.status,
                &connector.ocpp_status,
            ],
        )?;
    }
    Ok(())
}

pub fn find(id: Uuid) -> Result<Option<Station>, Error> {
    let rows = db::query(&format!("SELECT {STATION_COLUMNS} FROM stations WHERE id = $1"), &[&id])?;
    let Some(row) = rows.first() else { return Ok(None) };
    let mut station = station(row)?;
    let connectors = db::query(
        &format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE station_id = $1 ORDER BY position"),
        &[&id],
    )?;
    for row in connectors.iter() {
        station.connectors.push(connector(row)?);
    }
    station.ocpp = charge_points::of_station(id)?;
    Ok(Some(station))
}

/// One page of stations in creation order, and whether more follow.
pub fn list(page: &Page) -> Result<(Vec<Station>, bool), Error> {
    // Fetch one extra row to learn whether another page exists.
    let fetch = i64::from(page.limit) + 1;
    let after = page.after.as_deref().and_then(|id| Uuid::parse_str(id).ok()).unwrap_or(Uuid::nil());
    let page_filter = "SELECT id FROM stations WHERE id > $1 ORDER BY id LIMIT $2";
    let rows = db::query(&format!("SELECT {STATION_COLUMNS} FROM stations WHERE id > $1 ORDER BY id LIMIT $2"), &[
        &after, &fetch,
    ])?;
    let mut stations = rows.iter().map(station).collect::<Result<Vec<_>, _>>()?;
    let connectors = db::query(
        &format!(
            "SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE station_id IN ({page_filter}) ORDER BY station_id, position"
        ),
        &[&after, &fetch],
    )?;
    for row in connectors.iter() {
        let station_id: Uuid = row.get("station_id")?;
        if let Some(station) = stations.iter_mut().find(|s| s.id == station_id) {
            station.connectors.push(connector(row)?);
        }
    }
    let charge_points = db::query(
        &format!("SELECT {} FROM charge_points WHERE station_id IN ({page_filter})", charge_points::COLUMNS),
        &[&after, &fetch],
    )?;
    for row in charge_points.iter() {
        let station_id: Uuid = row.get("station_id")?;
        if let Some(station) = stations.iter_mut().find(|s| s.id == station_id) {
            station.ocpp = Some(charge_points::from_row(row)?);
        }
    }
    let more = stations.len() > page.limit as usize;
    stations.truncate(page.limit as usize);
    Ok((stations, more))
}

/// Takes the station's turn before it is read for a change: a write first holds the row (the
/// writer on SQLite) to the commit, so concurrent changes run one after the other instead of
/// one overwriting what the other wrote, or failing on a stale read. Returns whether it exists.
pub fn claim(id: Uuid) -> Result<bool, Error> {
    Ok(db::execute("UPDATE stations SET updated_at = updated_at WHERE id = $1", &[&id])? > 0)
}

/// Writes a changed station; its connectors are replaced when they changed.
pub fn update(station: &Station, connectors_changed: bool) -> Result<(), Error> {
    db::execute(
        "UPDATE stations SET name = $2, lat = $3, lng = $4, address = $5, time_zone = $6, tariff_id = $7, updated_at = $8
         WHERE id = $1",
        &[
            &station.id,
            &station.name,
            &station.location.lat,
            &station.location.lng,
            &station.address,
            &station.time_zone,
            &station.tariff_id,
            &station.updated_at,
        ],
    )?;
    if connectors_changed {
        db::execute("DELETE FROM connectors WHERE station_id = $1", &[&station.id])?;
        insert_connectors(station)?;
    }
    Ok(())
}

/// Deletes a station and, by cascade, its connectors and charge point; returns whether it existed.
pub fn delete(id: Uuid) -> Result<bool, Error> {
    Ok(db::execute("DELETE FROM stations WHERE id = $1", &[&id])? > 0)
}

/// Sets a connector's status; returns whether the connector exists.
pub fn set_status(station: Uuid, connector_id: &str, status: &str, at: DateTime<Utc>) -> Result<bool, Error> {
    let changed = db::execute(
        "UPDATE connectors SET status = $3 WHERE station_id = $1 AND connector_id = $2",
        &[&station, &connector_id, &status],
    )?;
    if changed > 0 {
        db::execute("UPDATE stations SET updated_at = $2 WHERE id = $1", &[&station, &at])?;
    }
    Ok(changed > 0)
}

/// Sets a connector's status as its charge point reported it, with the platform status
/// derived from it; returns whether the connector exists.
pub fn set_ocpp_status(
    station: Uuid,
    connector_id: &str,
    status: &str,
    ocpp_status: &str,
    at: DateTime<Utc>,
) -> Result<bool, Error> {
    let changed = db::execute(
        "UPDATE connectors SET status = $3, ocpp_status = $4 WHERE station_id = $1 AND connector_id = $2",
        &[&station, &connector_id, &status, &ocpp_status],
    )?;
    if changed > 0 {
        db::execute("UPDATE stations SET updated_at = $2 WHERE id = $1", &[&station, &at])?;
    }
    Ok(changed > 0)
}

fn station(row: Row<'_>) -> Result<Station, Error> {
    Ok(Station {
        id: row.get("id")?,
        name: row.get("name")?,
        location: Location { lat: row.get("lat")?, lng: row.get("lng")? },
        address: row.get("address")?,
        time_zone: row.get("time_zone")?,
        tariff_id: row.get("tariff_id")?,
        connectors: Vec::new(),
        ocpp: None,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

fn connector(row: Row<'_>) -> Result<Connector, Error> {
    Ok(Connector {
        connector_id: row.get("connector_id")?,
        kind: row.get("type")?,
        max_power_kw: row.get("max_power_kw")?,
        status: row.get("status")?,
        ocpp_status: row.get("ocpp_status")?,
    })
}
