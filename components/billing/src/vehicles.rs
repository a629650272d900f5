//! Whose plate is whose: a copy of the accounts' vehicles, kept from their events, so a
//! parking stay is billed to the driver whose vehicle has the plate.

use joule_sdk::db;
use joule_sdk::events::{Event, HandlerError};
use serde::Deserialize;
use uuid::Uuid;

use crate::invoicing::retry;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VehicleEvent {
    subject: String,
    vehicle_id: Uuid,
    regnum: String,
}

/// Applies `vehicle.registered.v1`, `vehicle.updated.v1` or `vehicle.removed.v1`.
pub fn keep(event: &Event) -> Result<(), HandlerError> {
    let vehicle: VehicleEvent = event.data_as()?;
    if event.event_type == "vehicle.removed.v1" {
        db::execute("DELETE FROM vehicles WHERE vehicle_id = $1", &[&vehicle.vehicle_id]).map_err(retry)?;
        return Ok(());
    }
    db::execute(
        "INSERT INTO vehicles (vehicle_id, subject, regnum) VALUES ($1, $2, $3)
         ON CONFLICT (vehicle_id) DO UPDATE SET subject = excluded.subject, regnum = excluded.regnum",
        &[&vehicle.vehicle_id, &vehicle.subject, &vehicle.regnum],
    )
    .map(drop)
    .map_err(retry)
}

/// The one account with a vehicle of this plate; none when no account, or more than one,
/// has it, since then the stay cannot be told to be anyone's.
pub fn owner(regnum: &str) -> Result<Option<String>, HandlerError> {
    let rows = db::query("SELECT DISTINCT subject FROM vehicles WHERE regnum = $1 LIMIT 2", &[&regnum]).map_err(retry)?;
    if rows.len() != 1 {
        return Ok(None);
    }
    rows.first().map(|only| only.get("subject")).transpose().map_err(retry)
}
