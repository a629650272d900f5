//! Parking and leaving: `POST /parking/lots/{id}/park` gives an arriving vehicle the best
//! free slot that fits it, and `POST /parking/lots/{id}/leave` frees it and records the stay.
//!
//! Billing prices a stay from `parking.vehicle-left.v1` alone, never reading this schema,
//! so that event carries what the lot says about pricing along with the stay.

mod input;

use chrono::{DateTime, Utc};
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Problems};
use joule_sdk::db;
use serde::Serialize;
use serde_json::json;
use spin_sdk::http::{Params, Request};
use uuid::Uuid;

use crate::lot::{Kind, Lot, Occupant, Size, Slot};
use crate::{Result, assignment, store};

pub const PARKED: &str = "parking.vehicle-parked.v1";
pub const LEFT: &str = "parking.vehicle-left.v1";

/// A vehicle in its slot: the park response, and the `parking.vehicle-parked.v1` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parked {
    pub stay_id: Uuid,
    pub lot_id: Uuid,
    pub slot_id: String,
    pub level: String,
    pub regnum: String,
    pub kind: Kind,
    pub size: Size,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub parked_at: DateTime<Utc>,
}

/// A stay that has ended: the leave response, and the history kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stay {
    #[serde(flatten)]
    pub arrival: Parked,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub left_at: DateTime<Utc>,
    pub duration_seconds: i64,
}

/// What `parking.vehicle-left.v1` carries: the stay, and the lot's terms for pricing it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Left<'a> {
    #[serde(flatten)]
    stay: &'a Stay,
    tariff_id: Option<&'a str>,
    free_minutes: u32,
    default_account: Option<&'a str>,
    time_zone: &'a str,
}

pub fn park(request: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let now = Utc::now();
    let arrival = input::arrival(&api::read_json(&request)?, now)?;
    let lot_id = crate::lot_id(&params)?;
    claim(lot_id)?;
    if let Some(slot) = store::slot_of(lot_id, &arrival.regnum)? {
        return Err(already_parked(&arrival.regnum, Some(&slot)));
    }
    let occupant = Occupant {
        stay_id: joule_sdk::ids::time_ordered(),
        regnum: arrival.regnum,
        kind: arrival.kind,
        size: arrival.size,
        parked_at: arrival.parked_at.unwrap_or(now),
    };
    let free = store::free_slots(lot_id)?;
    for slot in assignment::candidates(occupant.kind, occupant.size, &free) {
        // The plate was checked above; the unique index only speaks if that check is ever skipped.
        let occupied = store::occupy(lot_id, &slot.slot_id, &occupant).map_err(|e| match e {
            db::Error::ConstraintViolation(_) => already_parked(&occupant.regnum, None),
            e => e.into(),
        })?;
        if occupied {
            let parked = Parked {
                stay_id: occupant.stay_id,
                lot_id,
                slot_id: slot.slot_id.clone(),
                level: slot.level.clone(),
                regnum: occupant.regnum,
                kind: occupant.kind,
                size: occupant.size,
                parked_at: occupant.parked_at,
            };
            api::publish(PARKED, &parked)?;
            return Ok(api::json(201, &parked));
        }
    }
    Err(ApiError::conflict(
        "lot_full",
        format!("no free slot in the lot takes a {} {}", occupant.kind.as_str(), occupant.size.as_str()),
    ))
}

pub fn leave(request: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let now = Utc::now();
    let departure = input::departure(&api::read_json(&request)?, now)?;
    let lot_id = crate::lot_id(&params)?;
    claim(lot_id)?;
    let lot = store::find_lot(lot_id)?.ok_or_else(|| crate::no_lot(lot_id))?;
    let not_parked = || {
        ApiError::new(
            404,
            "not_parked",
            format!("no vehicle with the plate {:?} is parked in the lot", departure.regnum),
        )
    };
    let slot = store::slot_of(lot_id, &departure.regnum)?.ok_or_else(not_parked)?;
    let occupant = slot.occupant.clone().ok_or_else(not_parked)?;
    // A gate's own clock may have put the arrival a moment ahead of this host's.
    let left_at = departure.left_at.unwrap_or(now.max(occupant.parked_at));
    if left_at < occupant.parked_at {
        let problem = format!("must not be before the vehicle parked, at {}", api::time(occupant.parked_at));
        return Err(Problems::one("leftAt", &problem));
    }
    if !store::vacate(lot_id, &slot.slot_id, occupant.stay_id)? {
        return Err(not_parked());
    }
    let stay = Stay {
        arrival: Parked {
            stay_id: occupant.stay_id,
            lot_id,
            slot_id: slot.slot_id,
            level: slot.level,
            regnum: occupant.regnum,
            kind: occupant.kind,
            size: occupant.size,
            parked_at: occupant.parked_at,
        },
        left_at,
        duration_seconds: (left_at - occupant.parked_at).num_seconds(),
    };
    store::insert_stay(&stay)?;
    api::publish(LEFT, &left(&stay, &lot))?;
    Ok(api::json(200, &stay))
}

fn left<'a>(stay: &'a Stay, lot: &'a Lot) -> Left<'a> {
    Left {
        stay,
        tariff_id: lot.tariff_id.as_deref(),
        free_minutes: lot.free_minutes,
        default_account: lot.default_account.as_deref(),
        time_zone: &lot.time_zone,
    }
}

/// Takes the lot's turn (see [`store`]); 404 when there is no such lot.
fn claim(lot_id: Uuid) -> Result<()> {
    if store::claim_lot(lot_id)? { Ok(()) } else { Err(crate::no_lot(lot_id)) }
}

fn already_parked(regnum: &str, slot: Option<&Slot>) -> ApiError {
    let mut details = json!({ "regnum": regnum });
    if let Some(slot) = slot {
        details["slotId"] = json!(slot.slot_id);
    }
    ApiError::conflict("already_parked", format!("the plate {regnum:?} is already parked in the lot"))
        .with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_left_event_carries_the_stay_and_the_lots_terms() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        let stay = Stay {
            arrival: Parked {
                stay_id: Uuid::nil(),
                lot_id: Uuid::nil(),
                slot_id: "A1".into(),
                level: "P1".into(),
                regnum: "AB12CD".into(),
                kind: Kind::Ev,
                size: Size::Car,
                parked_at: at("2026-11-23T10:00:00Z"),
            },
            left_at: at("2026-11-23T11:30:00Z"),
            duration_seconds: 5400,
        };
        let lot = Lot {
            id: Uuid::nil(),
            name: "Harbour Garage".into(),
            time_zone: "UTC".into(),
            tariff_id: Some("t-1".into()),
            free_minutes: 30,
            default_account: None,
            levels: vec!["P1".into()],
            total_slots: 1,
            created_at: at("2026-11-01T00:00:00Z"),
        };
        let event = serde_json::to_value(left(&stay, &lot)).unwrap();
        let mut keys: Vec<&str> = event.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "defaultAccount",
                "durationSeconds",
                "freeMinutes",
                "kind",
                "leftAt",
                "level",
                "lotId",
                "parkedAt",
                "regnum",
                "size",
                "slotId",
                "stayId",
                "tariffId",
                "timeZone"
            ]
        );
        assert_eq!(event["leftAt"], "2026-11-23T11:30:00.000Z");
        assert_eq!(event["defaultAccount"], serde_json::Value::Null);
        assert_eq!(event["freeMinutes"], 30);
    }
}
