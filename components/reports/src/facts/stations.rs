//! `station.created.v1` and `station.updated.v1`: a station's name and time zone, the newest
//! telling winning whatever order they arrive in.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use joule_sdk::db::{self, Error};
use joule_sdk::events::{Event, HandlerError};
use serde::Deserialize;
use uuid::Uuid;

use super::retry;
use crate::dirty;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Told {
    id: Uuid,
    name: String,
    time_zone: String,
    updated_at: Option<DateTime<Utc>>,
}

pub fn station(event: &Event) -> Result<(), HandlerError> {
    let told: Told = event.data_as()?;
    let updated_at = told.updated_at.or_else(|| event.time.parse().ok()).unwrap_or_else(Utc::now);
    keep(&told, updated_at).map_err(retry)
}

/// Writes first, as every invocation on the embedded backend should: a newer telling with
/// the same zone only renames; a new station or a new zone also moves its facts' days.
fn keep(told: &Told, updated_at: DateTime<Utc>) -> Result<(), Error> {
    let renamed = db::execute(
        "UPDATE stations SET name = $2, updated_at = $4 WHERE id = $1 AND time_zone = $3 AND updated_at <= $4",
        &[&told.id, &told.name, &told.time_zone, &updated_at],
    )?;
    if renamed > 0 {
        // The name is looked up as a report is made: no figure moves.
        return Ok(());
    }
    let rezoned = db::execute(
        "INSERT INTO stations (id, name, time_zone, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, updated_at = excluded.updated_at
         WHERE stations.updated_at <= excluded.updated_at",
        &[&told.id, &told.name, &told.time_zone, &updated_at],
    )?;
    if rezoned == 0 {
        // An older telling than the one kept.
        return Ok(());
    }
    dirty::mark(&days_of_station(told.id)?)
}

/// Every day the station's facts may count on: its zone decides which local day each is.
fn days_of_station(station: Uuid) -> Result<BTreeSet<chrono::NaiveDate>, Error> {
    let mut days = BTreeSet::new();
    for row in db::query("SELECT started_at, ends_at FROM sessions WHERE station_id = $1", &[&station])?.iter() {
        dirty::around(&mut days, row.get("started_at")?, row.get("ends_at")?);
    }
    let invoices = db::query(
        "SELECT i.created_at FROM invoices i JOIN sessions s ON s.id = i.session_id WHERE s.station_id = $1",
        &[&station],
    )?;
    super::add_instants(&invoices, "created_at", &mut days)?;
    let payments = db::query(
        "SELECT p.paid_at FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN sessions s ON s.id = i.session_id
         WHERE s.station_id = $1",
        &[&station],
    )?;
    super::add_instants(&payments, "paid_at", &mut days)?;
    Ok(days)
}
