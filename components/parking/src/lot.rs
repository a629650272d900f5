//! What a parking lot is: its settings, and its slots in the order the operator listed them,
//! each free or occupied by one vehicle's stay.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use uuid::Uuid;

/// What drives a vehicle, and so what a slot is for: EV slots may have a charging connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    #[serde(rename = "EV")]
    Ev,
    #[serde(rename = "ICE")]
    Ice,
}

impl Kind {
    pub const ALL: [Self; 2] = [Self::Ev, Self::Ice];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ev => "EV",
            Self::Ice => "ICE",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// How big a vehicle or slot is. Declared smallest first, so the derived order is by size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Size {
    #[serde(rename = "MOTORBIKE")]
    Motorbike,
    #[serde(rename = "CAR")]
    Car,
    #[serde(rename = "VAN")]
    Van,
}

impl Size {
    pub const ALL: [Self; 3] = [Self::Motorbike, Self::Car, Self::Van];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Motorbike => "MOTORBIKE",
            Self::Car => "CAR",
            Self::Van => "VAN",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|size| size.as_str() == text)
    }
}

/// The charging connector at an EV slot, named as the stations API names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    pub station_id: String,
    pub connector_id: String,
}

/// The vehicle in a slot, and when its stay began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Occupant {
    pub stay_id: Uuid,
    pub regnum: String,
    pub kind: Kind,
    pub size: Size,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub parked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub slot_id: String,
    pub level: String,
    pub kind: Kind,
    pub size: Size,
    pub connector: Option<Connector>,
    pub occupant: Option<Occupant>,
}

impl Serialize for Slot {
    /// As the API shows a slot: `occupied` says at a glance what `vehicle` says in full.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Shown<'a> {
            slot_id: &'a str,
            level: &'a str,
            kind: Kind,
            size: Size,
            connector: Option<&'a Connector>,
            occupied: bool,
            vehicle: Option<&'a Occupant>,
        }
        Shown {
            slot_id: &self.slot_id,
            level: &self.level,
            kind: self.kind,
            size: self.size,
            connector: self.connector.as_ref(),
            occupied: self.occupant.is_some(),
            vehicle: self.occupant.as_ref(),
        }
        .serialize(serializer)
    }
}

/// A lot's settings. Billing prices a stay from what the lot says here, carried in the
/// `parking.vehicle-left.v1` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lot {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
    pub tariff_id: Option<String>,
    pub free_minutes: u32,
    pub default_account: Option<String>,
    pub levels: Vec<String>,
    pub total_slots: u32,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub created_at: DateTime<Utc>,
}

/// A lot with its slots, as `GET /parking/lots/{id}` shows it.
#[derive(Serialize)]
pub struct LotWithSlots<'a> {
    #[serde(flatten)]
    pub lot: &'a Lot,
    pub slots: &'a [Slot],
}

/// The levels of `slots`, each once, in the order its first slot comes.
pub fn levels(slots: &[Slot]) -> Vec<String> {
    let mut seen = HashSet::new();
    slots.iter().filter(|slot| seen.insert(slot.level.as_str())).map(|slot| slot.level.clone()).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A free slot, for the tests of what is computed from slots.
    pub fn slot(slot_id: &str, level: &str, kind: Kind, size: Size, connector: bool) -> Slot {
        let connector = connector.then(|| Connector { station_id: "st-1".into(), connector_id: slot_id.into() });
        Slot { slot_id: slot_id.into(), level: level.into(), kind, size, connector, occupant: None }
    }

    #[test]
    fn levels_come_in_the_order_they_are_first_listed() {
        let slots = [
            slot("a", "P1", Kind::Ev, Size::Car, false),
            slot("b", "-1", Kind::Ice, Size::Car, false),
            slot("c", "P1", Kind::Ice, Size::Van, false),
        ];
        assert_eq!(levels(&slots), ["P1", "-1"]);
    }

    #[test]
    fn names_read_back_and_sizes_order_smallest_first() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        for size in Size::ALL {
            assert_eq!(Size::parse(size.as_str()), Some(size));
        }
        assert_eq!(Kind::parse("ev"), None);
        assert!(Size::Motorbike < Size::Car && Size::Car < Size::Van);
    }

    #[test]
    fn a_slot_shows_whether_it_is_occupied() {
        let mut shown = slot("a", "P1", Kind::Ev, Size::Car, true);
        let free = serde_json::to_value(&shown).unwrap();
        assert_eq!(free["occupied"], false);
        assert_eq!(free["vehicle"], serde_json::Value::Null);
        assert_eq!(free["connector"]["stationId"], "st-1");
        let parked_at = DateTime::parse_from_rfc3339("2026-11-23T16:40:00Z").unwrap().with_timezone(&Utc);
        shown.occupant = Some(Occupant {
            stay_id: Uuid::nil(),
            regnum: "AB12CD".into(),
            kind: Kind::Ev,
            size: Size::Car,
            parked_at,
        });
        let taken = serde_json::to_value(&shown).unwrap();
        assert_eq!(taken["occupied"], true);
        assert_eq!(taken["vehicle"]["regnum"], "AB12CD");
        assert_eq!(taken["vehicle"]["parkedAt"], "2026-11-23T16:40:00.000Z");
    }
}
