//! The parking schema: lots, their slots with whoever occupies them, and ended stays.
//!
//! Parking and leaving change one lot's slots. Each first takes the lot's turn with
//! [`claim_lot`], a write before any read: the embedded SQLite backend then holds its single
//! writer from the start (a read first would conflict with concurrent writers), and on
//! Postgres the lot's row lock orders changes of one lot, so the plate check and the slot
//! claim that follow see every change committed before. The claim itself is conditional
//! anyway ([`occupy`]), and a unique index keeps one slot per plate.

use chrono::{DateTime, Utc};
use joule_sdk::api::Page;
use joule_sdk::db::{self, Error, Row, ToSql};
use uuid::Uuid;

use crate::lot::{Connector, Kind, Lot, Occupant, Size, Slot};
use crate::stays::Stay;

const LOT_COLUMNS: &str =
    "id, name, time_zone, tariff_id, free_minutes, default_account, levels, total_slots, created_at";
const SLOT_COLUMNS: &str =
    "slot_id, level, kind, size, station_id, connector_id, stay_id, regnum, vehicle_kind, vehicle_size, parked_at";
/// Slots inserted per statement: 8 parameters each stays well under both backends' limits.
const SLOTS_PER_INSERT: usize = 250;

/// Adds a lot with its slots, all free.
pub fn insert_lot(lot: &Lot, slots: &[Slot]) -> Result<(), Error> {
    let levels = serde_json::to_string(&lot.levels).expect("strings serialise");
    db::execute(
        &format!("INSERT INTO lots ({LOT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
        &[
            &lot.id,
            &lot.name,
            &lot.time_zone,
            &lot.tariff_id,
            &lot.free_minutes,
            &lot.default_account,
            &levels,
            &lot.total_slots,
            &lot.created_at,
        ],
    )?;
    for (batch, chunk) in slots.chunks(SLOTS_PER_INSERT).enumerate() {
        insert_slots(lot.id, batch * SLOTS_PER_INSERT, chunk)?;
    }
    Ok(())
}

/// One multi-row insert: a statement per slot would be thousands of round trips.
fn insert_slots(lot_id: Uuid, first_position: usize, slots: &[Slot]) -> Result<(), Error> {
    let mut rows = Vec::with_capacity(slots.len());
    let mut params: Vec<Box<dyn ToSql>> = Vec::with_capacity(slots.len() * 8);
    for (i, slot) in slots.iter().enumerate() {
        let n = params.len();
        rows.push(format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5,
            n + 6,
            n + 7,
            n + 8
        ));
        let position = i64::try_from(first_position + i).expect("a lot has a few thousand slots");
        params.push(Box::new(lot_id));
        params.push(Box::new(slot.slot_id.clone()));
        params.push(Box::new(position));
        params.push(Box::new(slot.level.clone()));
        params.push(Box::new(slot.kind.as_str()));
        params.push(Box::new(slot.size.as_str()));
        params.push(Box::new(slot.connector.as_ref().map(|c| c.station_id.clone())));
        params.push(Box::new(slot.connector.as_ref().map(|c| c.connector_id.clone())));
    }
    let statement = format!(
        "INSERT INTO slots (lot_id, slot_id, position, level, kind, size, station_id, connector_id) VALUES {}",
        rows.join(", ")
    );
    let params: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
    db::execute(&statement, &params)?;
    Ok(())
}

pub fn find_lot(id: Uuid) -> Result<Option<Lot>, Error> {
    let rows = db::query(&format!("SELECT {LOT_COLUMNS} FROM lots WHERE id = $1"), &[&id])?;
    rows.first().map(lot).transpose()
}

/// One page of lots in creation order, and whether more follow.
pub fn list_lots(page: &Page) -> Result<(Vec<Lot>, bool), Error> {
    // One extra row tells whether another page exists.
    let fetch = i64::from(page.limit) + 1;
    let after = page.after.as_deref().and_then(|id| Uuid::parse_str(id).ok()).unwrap_or(Uuid::nil());
    let rows =
        db::query(&format!("SELECT {LOT_COLUMNS} FROM lots WHERE id > $1 ORDER BY id LIMIT $2"), &[&after, &fetch])?;
    let mut lots = rows.iter().map(lot).collect::<Result<Vec<_>, _>>()?;
    let more = lots.len() > page.limit as usize;
    lots.truncate(page.limit as usize);
    Ok((lots, more))
}

/// Takes the lot's turn before its slots change (see the module's note); `false` when no
/// lot has the id.
pub fn claim_lot(id: Uuid) -> Result<bool, Error> {
    Ok(db::execute("UPDATE lots SET created_at = created_at WHERE id = $1", &[&id])? > 0)
}

/// Every slot of the lot, in the lot's order; none when there is no such lot.
pub fn slots(lot_id: Uuid) -> Result<Vec<Slot>, Error> {
    let rows = db::query(&format!("SELECT {SLOT_COLUMNS} FROM slots WHERE lot_id = $1 ORDER BY position"), &[&lot_id])?;
    rows.iter().map(slot).collect()
}

/// The lot's free slots, in the lot's order.
pub fn free_slots(lot_id: Uuid) -> Result<Vec<Slot>, Error> {
    let rows = db::query(
        &format!("SELECT {SLOT_COLUMNS} FROM slots WHERE lot_id = $1 AND regnum IS NULL ORDER BY position"),
        &[&lot_id],
    )?;
    rows.iter().map(slot).collect()
}

/// The slot the plate occupies in the lot, if it is parked there.
pub fn slot_of(lot_id: Uuid, regnum: &str) -> Result<Option<Slot>, Error> {
    let rows =
        db::query(&format!("SELECT {SLOT_COLUMNS} FROM slots WHERE lot_id = $1 AND regnum = $2"), &[&lot_id, &regnum])?;
    rows.first().map(slot).transpose()
}

/// Puts a vehicle in the slot if it is still free; `false` when another took it first. On
/// Postgres an update waiting on another's lock checks `regnum IS NULL` again once that commits.
pub fn occupy(lot_id: Uuid, slot_id: &str, occupant: &Occupant) -> Result<bool, Error> {
    let changed = db::execute(
        "UPDATE slots SET stay_id = $3, regnum = $4, vehicle_kind = $5, vehicle_size = $6, parked_at = $7
         WHERE lot_id = $1 AND slot_id = $2 AND regnum IS NULL",
        &[
            &lot_id,
            &slot_id,
            &occupant.stay_id,
            &occupant.regnum,
            &occupant.kind.as_str(),
            &occupant.size.as_str(),
            &occupant.parked_at,
        ],
    )?;
    Ok(changed > 0)
}

/// Frees the slot of the stay, if that stay still occupies it.
pub fn vacate(lot_id: Uuid, slot_id: &str, stay_id: Uuid) -> Result<bool, Error> {
    let changed = db::execute(
        "UPDATE slots SET stay_id = NULL, regnum = NULL, vehicle_kind = NULL, vehicle_size = NULL, parked_at = NULL
         WHERE lot_id = $1 AND slot_id = $2 AND stay_id = $3",
        &[&lot_id, &slot_id, &stay_id],
    )?;
    Ok(changed > 0)
}

/// Keeps an ended stay in the lot's history.
pub fn insert_stay(stay: &Stay) -> Result<(), Error> {
    db::execute(
        "INSERT INTO stays (id, lot_id, slot_id, level, regnum, kind, size, parked_at, left_at, duration_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &stay.arrival.stay_id,
            &stay.arrival.lot_id,
            &stay.arrival.slot_id,
            &stay.arrival.level,
            &stay.arrival.regnum,
            &stay.arrival.kind.as_str(),
            &stay.arrival.size.as_str(),
            &stay.arrival.parked_at,
            &stay.left_at,
            &stay.duration_seconds,
        ],
    )?;
    Ok(())
}

fn lot(row: Row<'_>) -> Result<Lot, Error> {
    let levels: String = row.get("levels")?;
    Ok(Lot {
        id: row.get("id")?,
        name: row.get("name")?,
        time_zone: row.get("time_zone")?,
        tariff_id: row.get("tariff_id")?,
        free_minutes: count(row, "free_minutes")?,
        default_account: row.get("default_account")?,
        levels: serde_json::from_str(&levels).map_err(|e| corrupt("levels", e))?,
        total_slots: count(row, "total_slots")?,
        created_at: row.get("created_at")?,
    })
}

fn slot(row: Row<'_>) -> Result<Slot, Error> {
    let station_id: Option<String> = row.get("station_id")?;
    let connector_id: Option<String> = row.get("connector_id")?;
    let stay_id: Option<Uuid> = row.get("stay_id")?;
    let occupant = match stay_id {
        None => None,
        Some(stay_id) => Some(Occupant {
            stay_id,
            regnum: row.get("regnum")?,
            kind: named(row, "vehicle_kind", Kind::parse)?,
            size: named(row, "vehicle_size", Size::parse)?,
            parked_at: row.get::<DateTime<Utc>>("parked_at")?,
        }),
    };
    Ok(Slot {
        slot_id: row.get("slot_id")?,
        level: row.get("level")?,
        kind: named(row, "kind", Kind::parse)?,
        size: named(row, "size", Size::parse)?,
        connector: station_id
            .zip(connector_id)
            .map(|(station_id, connector_id)| Connector { station_id, connector_id }),
        occupant,
    })
}

fn count(row: Row<'_>, column: &str) -> Result<u32, Error> {
    let value: i64 = row.get(column)?;
    u32::try_from(value).map_err(|e| corrupt(column, e))
}

fn named<T>(row: Row<'_>, column: &str, parse: fn(&str) -> Option<T>) -> Result<T, Error> {
    let text: String = row.get(column)?;
    parse(&text).ok_or_else(|| corrupt(column, format!("{text:?} is not a name this component writes")))
}

fn corrupt(column: &str, problem: impl std::fmt::Display) -> Error {
    Error::UnsupportedType(format!("column {column:?}: {problem}"))
}
