//! Which free slot an arriving vehicle gets.
//!
//! Charging is the scarce thing: an EV takes an EV slot with a connector first, then an EV
//! slot without one, and only then an ICE slot; an ICE vehicle never takes an EV slot. Within
//! that, the smallest slot the vehicle fits keeps the big ones for vans, and the lot's own
//! order (the order the operator listed its slots) decides the rest.

use crate::lot::{Kind, Size, Slot};

/// Whether a vehicle of size `vehicle` fits a slot of size `slot`: a motorbike fits any
/// slot, a car a car or van slot, a van only a van slot.
pub fn fits(vehicle: Size, slot: Size) -> bool {
    vehicle <= slot
}

/// How much a vehicle of `kind` wants `slot`'s kind, 0 the most; `None` when it may not take it.
fn tier(kind: Kind, slot: &Slot) -> Option<u8> {
    match (kind, slot.kind) {
        (Kind::Ev, Kind::Ev) if slot.connector.is_some() => Some(0),
        (Kind::Ev, Kind::Ev) => Some(1),
        (Kind::Ev, Kind::Ice) => Some(2),
        (Kind::Ice, Kind::Ice) => Some(0),
        (Kind::Ice, Kind::Ev) => None,
    }
}

/// The free slots of `slots` (in the lot's order) that a vehicle may take, best first. Two
/// arrivals may want the same slot at once, so the caller tries them in turn.
pub fn candidates(kind: Kind, size: Size, slots: &[Slot]) -> Vec<&Slot> {
    let mut ranked: Vec<((u8, Size), &Slot)> = slots
        .iter()
        .filter(|slot| slot.occupant.is_none() && fits(size, slot.size))
        .filter_map(|slot| tier(kind, slot).map(|tier| ((tier, slot.size), slot)))
        .collect();
    // A stable sort: slots of one rank keep the lot's order.
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked.into_iter().map(|(_, slot)| slot).collect()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::lot::Occupant;
    use crate::lot::tests::slot;

    fn ids(slots: Vec<&Slot>) -> Vec<&str> {
        slots.into_iter().map(|slot| slot.slot_id.as_str()).collect()
    }

    fn lot() -> Vec<Slot> {
        vec![
            slot("ice-van", "0", Kind::Ice, Size::Van, false),
            slot("ice-car", "0", Kind::Ice, Size::Car, false),
            slot("ev-van", "0", Kind::Ev, Size::Van, false),
            slot("ev-car", "0", Kind::Ev, Size::Car, false),
            slot("charger-van", "1", Kind::Ev, Size::Van, true),
            slot("charger-car", "1", Kind::Ev, Size::Car, true),
            slot("ice-bike", "1", Kind::Ice, Size::Motorbike, false),
            slot("charger-car-2", "1", Kind::Ev, Size::Car, true),
        ]
    }

    #[test]
    fn sizes_fit_the_same_or_bigger() {
        use Size::*;
        let fitting: Vec<(Size, Size)> =
            Size::ALL.into_iter().flat_map(|v| Size::ALL.map(|s| (v, s))).filter(|(v, s)| fits(*v, *s)).collect();
        assert_eq!(
            fitting,
            [(Motorbike, Motorbike), (Motorbike, Car), (Motorbike, Van), (Car, Car), (Car, Van), (Van, Van)]
        );
    }

    #[test]
    fn an_ev_takes_a_connector_then_an_ev_slot_then_an_ice_slot() {
        let lot = lot();
        assert_eq!(
            ids(candidates(Kind::Ev, Size::Car, &lot)),
            ["charger-car", "charger-car-2", "charger-van", "ev-car", "ev-van", "ice-car", "ice-van"]
        );
        assert_eq!(ids(candidates(Kind::Ev, Size::Van, &lot)), ["charger-van", "ev-van", "ice-van"]);
    }

    #[test]
    fn an_ice_vehicle_takes_only_ice_slots_smallest_first() {
        let lot = lot();
        assert_eq!(ids(candidates(Kind::Ice, Size::Motorbike, &lot)), ["ice-bike", "ice-car", "ice-van"]);
        assert_eq!(ids(candidates(Kind::Ice, Size::Car, &lot)), ["ice-car", "ice-van"]);
        assert_eq!(ids(candidates(Kind::Ice, Size::Van, &lot)), ["ice-van"]);
    }

    #[test]
    fn occupied_slots_are_passed_over() {
        let mut lot = lot();
        for slot in lot.iter_mut().filter(|slot| slot.connector.is_some() || slot.kind == Kind::Ice) {
            slot.occupant = Some(Occupant {
                stay_id: Uuid::nil(),
                regnum: "X1".into(),
                kind: Kind::Ev,
                size: Size::Car,
                parked_at: Utc::now(),
            });
        }
        assert_eq!(ids(candidates(Kind::Ev, Size::Car, &lot)), ["ev-car", "ev-van"]);
        assert!(candidates(Kind::Ice, Size::Motorbike, &lot).is_empty());
    }
}
