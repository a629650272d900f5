//! The vehicles table. Plates are stored normalised, and `UNIQUE (subject, regnum)` keeps
//! one plate per account even if a check were ever skipped.

use joule_sdk::db::{self, Error, Row};
use uuid::Uuid;

use super::Vehicle;

const COLUMNS: &str = "id, subject, make, model, regnum, connector_types, battery_kwh, created_at, updated_at";

/// The account's vehicles, oldest first.
pub fn list(subject: &str) -> Result<Vec<Vehicle>, Error> {
    let rows = db::query(&format!("SELECT {COLUMNS} FROM vehicles WHERE subject = $1 ORDER BY id"), &[&subject])?;
    rows.iter().map(vehicle).collect()
}

pub fn find(id: Uuid) -> Result<Option<Vehicle>, Error> {
    let rows = db::query(&format!("SELECT {COLUMNS} FROM vehicles WHERE id = $1"), &[&id])?;
    rows.first().map(vehicle).transpose()
}

pub fn count(subject: &str) -> Result<usize, Error> {
    let rows = db::query("SELECT COUNT(*) AS n FROM vehicles WHERE subject = $1", &[&subject])?;
    let n: i64 = rows.first().map(|row| row.get("n")).transpose()?.unwrap_or(0);
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub fn regnum_taken(subject: &str, regnum: &str) -> Result<bool, Error> {
    Ok(!db::query("SELECT id FROM vehicles WHERE subject = $1 AND regnum = $2", &[&subject, &regnum])?.is_empty())
}

/// Adds a vehicle; `false` when the account already has one with its plate.
pub fn insert(vehicle: &Vehicle) -> Result<bool, Error> {
    let inserted = db::execute(
        "INSERT INTO vehicles (id, subject, make, model, regnum, connector_types, battery_kwh, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (subject, regnum) DO NOTHING",
        &[
            &vehicle.id,
            &vehicle.subject,
            &vehicle.make,
            &vehicle.model,
            &vehicle.regnum,
            &types_text(&vehicle.connector_types),
            &vehicle.battery_kwh,
            &vehicle.created_at,
            &vehicle.updated_at,
        ],
    )?;
    Ok(inserted > 0)
}

pub fn update(vehicle: &Vehicle) -> Result<(), Error> {
    db::execute(
        "UPDATE vehicles SET make = $2, model = $3, regnum = $4, connector_types = $5, battery_kwh = $6, updated_at = $7
         WHERE id = $1",
        &[
            &vehicle.id,
            &vehicle.make,
            &vehicle.model,
            &vehicle.regnum,
            &types_text(&vehicle.connector_types),
            &vehicle.battery_kwh,
            &vehicle.updated_at,
        ],
    )?;
    Ok(())
}

pub fn delete(id: Uuid) -> Result<(), Error> {
    db::execute("DELETE FROM vehicles WHERE id = $1", &[&id])?;
    Ok(())
}

fn types_text(types: &[String]) -> String {
    serde_json::to_string(types).expect("strings serialise")
}

fn vehicle(row: Row<'_>) -> Result<Vehicle, Error> {
    let types: String = row.get("connector_types")?;
    Ok(Vehicle {
        id: row.get("id")?,
        subject: row.get("subject")?,
        make: row.get("make")?,
        model: row.get("model")?,
        regnum: row.get("regnum")?,
        connector_types: serde_json::from_str(&types)
            .map_err(|e| Error::UnsupportedType(format!("column \"connector_types\": {e}")))?,
        battery_kwh: row.get("battery_kwh")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}
