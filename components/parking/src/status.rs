//! `GET /parking/lots/{id}/status`: how full a lot is, per level and kind of slot.

use std::collections::HashMap;

use joule_sdk::access::Caller;
use joule_sdk::api;
use serde::Serialize;
use spin_sdk::http::{Params, Request};
use uuid::Uuid;

use crate::lot::{Kind, Slot, levels};
use crate::{Result, store};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub total: u32,
    pub occupied: u32,
    pub free: u32,
}

impl Counts {
    fn add(&mut self, slot: &Slot) {
        self.total += 1;
        if slot.occupant.is_some() {
            self.occupied += 1;
        } else {
            self.free += 1;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub kind: Kind,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelCounts {
    pub level: String,
    /// Both kinds on every level, zeros included, so a client reads every level alike.
    pub kinds: Vec<KindCounts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub lot_id: Uuid,
    pub levels: Vec<LevelCounts>,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The occupancy of a lot's slots, levels in the lot's order. One pass, as a lot may have
/// thousands of slots.
pub fn of(lot_id: Uuid, slots: &[Slot]) -> Status {
    let names = levels(slots);
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
    let mut by_level = vec![[Counts::default(); Kind::ALL.len()]; names.len()];
    let mut whole = Counts::default();
    for slot in slots {
        let kind = Kind::ALL.iter().position(|kind| *kind == slot.kind).expect("every kind is listed");
        by_level[index[slot.level.as_str()]][kind].add(slot);
        whole.add(slot);
    }
    let levels = names
        .into_iter()
        .zip(by_level)
        .map(|(level, counts)| LevelCounts {
            level,
            kinds: Kind::ALL.into_iter().zip(counts).map(|(kind, counts)| KindCounts { kind, counts }).collect(),
        })
        .collect();
    Status { lot_id, levels, counts: whole }
}

pub fn get(_: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let lot_id = crate::lot_id(&params)?;
    let slots = crate::existing_slots(lot_id, store::slots(lot_id)?)?;
    Ok(api::json(200, &of(lot_id, &slots)))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::lot::tests::slot;
    use crate::lot::{Occupant, Size};

    #[test]
    fn counts_each_level_and_kind_and_the_whole_lot() {
        let mut slots = vec![
            slot("a", "P1", Kind::Ev, Size::Car, true),
            slot("b", "P1", Kind::Ev, Size::Car, false),
            slot("c", "P1", Kind::Ice, Size::Van, false),
            slot("d", "P2", Kind::Ice, Size::Car, false),
        ];
        slots[1].occupant = Some(Occupant {
            stay_id: Uuid::nil(),
            regnum: "X1".into(),
            kind: Kind::Ev,
            size: Size::Car,
            parked_at: Utc::now(),
        });
        let status = serde_json::to_value(of(Uuid::nil(), &slots)).unwrap();
        assert_eq!(
            status,
            json!({
                "lotId": Uuid::nil(),
                "levels": [
                    { "level": "P1", "kinds": [
                        { "kind": "EV", "total": 2, "occupied": 1, "free": 1 },
                        { "kind": "ICE", "total": 1, "occupied": 0, "free": 1 }
                    ] },
                    { "level": "P2", "kinds": [
                        { "kind": "EV", "total": 0, "occupied": 0, "free": 0 },
                        { "kind": "ICE", "total": 1, "occupied": 0, "free": 1 }
                    ] }
                ],
                "total": 4, "occupied": 1, "free": 3
            })
        );
    }
}
