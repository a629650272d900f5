//! Reading a new lot's body. Every problem is collected, so one 422 names each bad field.

use std::collections::HashMap;

use joule_sdk::api::{ApiError, Problems, Reader};
use serde_json::Value;

use crate::fields;
use crate::lot::{Connector, Kind, Slot};

/// The most slots one lot has: a large multi-storey car park. It also bounds the body.
pub const MAX_SLOTS: usize = 5000;
/// A year: the longest free parking a lot gives.
pub const MAX_FREE_MINUTES: u64 = 525_600;
/// The zone of a lot that names none; billing reads local times in it.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

const FIELDS: [&str; 6] = ["name", "timeZone", "tariffId", "freeMinutes", "defaultAccount", "slots"];
const SLOT_FIELDS: [&str; 5] = ["slotId", "level", "kind", "size", "connector"];
const MAX_NAME: usize = 200;
const MAX_TARIFF_ID: usize = 64;
/// A token's subject, as the accounts API takes it.
const MAX_ACCOUNT: usize = 255;
const MAX_SLOT_ID: usize = 64;
const MAX_LEVEL: usize = 32;
const MAX_STATION_ID: usize = 64;
const MAX_CONNECTOR_ID: usize = 36;

#[derive(Debug, Clone, PartialEq)]
pub struct NewLot {
    pub name: String,
    pub time_zone: String,
    pub tariff_id: Option<String>,
    pub free_minutes: u32,
    pub default_account: Option<String>,
    /// Free, in the order given.
    pub slots: Vec<Slot>,
}

pub fn new_lot(body: &Value) -> Result<NewLot, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&FIELDS, &mut problems);
    let name = reader.string("name", MAX_NAME, &mut problems);
    let time_zone = time_zone(&reader, &mut problems);
    let tariff_id = reader.optional_string("tariffId", MAX_TARIFF_ID, &mut problems);
    let free_minutes = reader.optional_whole("freeMinutes", 0, MAX_FREE_MINUTES, &mut problems);
    let default_account = reader.optional_string("defaultAccount", MAX_ACCOUNT, &mut problems);
    let slots = slots(&reader, &mut problems);
    problems.finish()?;
    let complete = "every field was checked above";
    Ok(NewLot {
        name: name.expect(complete),
        time_zone: time_zone.expect(complete),
        tariff_id: tariff_id.expect(complete),
        free_minutes: free_minutes.expect(complete).map_or(0, |m| u32::try_from(m).expect("bounded above")),
        default_account: default_account.expect(complete),
        slots: slots.expect(complete),
    })
}

/// An IANA zone, "UTC" when absent.
fn time_zone(reader: &Reader<'_>, problems: &mut Problems) -> Option<String> {
    let zone = reader.optional_string("timeZone", 64, problems)?;
    let Some(zone) = zone else { return Some(DEFAULT_TIME_ZONE.to_string()) };
    if zone.parse::<chrono_tz::Tz>().is_err() {
        problems.add(reader.path("timeZone"), "must be an IANA time zone such as \"Europe/Amsterdam\"");
        return None;
    }
    Some(zone)
}

fn slots(reader: &Reader<'_>, problems: &mut Problems) -> Option<Vec<Slot>> {
    // Past the most, the list is refused as a whole; its slots are not read one by one.
    let items = reader.objects("slots", true, MAX_SLOTS, problems)?;
    if items.is_empty() {
        problems.add(reader.path("slots"), format!("must list 1 to {MAX_SLOTS} slots"));
        return None;
    }
    // Where each slot id was first seen, so a repeat names the first.
    let mut first_of: HashMap<String, usize> = HashMap::new();
    let mut slots = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        slots.extend(slot(item, i, &mut first_of, problems));
    }
    (slots.len() == items.len()).then_some(slots)
}

fn slot(
    item: &Reader<'_>,
    index: usize,
    first_of: &mut HashMap<String, usize>,
    problems: &mut Problems,
) -> Option<Slot> {
    item.only(&SLOT_FIELDS, problems);
    let slot_id = item.string("slotId", MAX_SLOT_ID, problems);
    if let Some(slot_id) = &slot_id {
        let first = *first_of.entry(slot_id.clone()).or_insert(index);
        if first != index {
            problems.add(item.path("slotId"), format!("repeats slots[{first}].slotId"));
        }
    }
    let level = item.string("level", MAX_LEVEL, problems);
    let kind = fields::kind(item, problems);
    let size = fields::size(item, problems);
    let connector = item.object("connector", false, problems).map(|c| connector(&c, problems));
    if kind == Some(Kind::Ice) && connector.is_some() {
        problems.add(item.path("connector"), "only an EV slot has a charging connector");
    }
    let connector = match connector {
        Some(Some(connector)) => Some(connector),
        Some(None) => return None,
        None => None,
    };
    Some(Slot { slot_id: slot_id?, level: level?, kind: kind?, size: size?, connector, occupant: None })
}

fn connector(reader: &Reader<'_>, problems: &mut Problems) -> Option<Connector> {
    reader.only(&["stationId", "connectorId"], problems);
    let station_id = reader.string("stationId", MAX_STATION_ID, problems);
    let connector_id = reader.string("connectorId", MAX_CONNECTOR_ID, problems);
    Some(Connector { station_id: station_id?, connector_id: connector_id? })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::lot::Size;

    fn valid() -> Value {
        json!({
            "name": "Harbour Garage",
            "tariffId": "parking-2026",
            "freeMinutes": 30,
            "defaultAccount": "fleet-desk",
            "slots": [
                { "slotId": "A1", "level": "P1", "kind": "EV", "size": "CAR",
                  "connector": { "stationId": "st-1", "connectorId": "1" } },
                { "slotId": "A2", "level": "P1", "kind": "ICE", "size": "VAN" },
                { "slotId": "B1", "level": "P2", "kind": "ICE", "size": "MOTORBIKE" }
            ]
        })
    }

    fn details(body: Value) -> Value {
        let error = new_lot(&body).unwrap_err();
        assert_eq!(error.status, 422);
        error.details.unwrap()
    }

    #[test]
    fn accepts_a_lot_with_defaults_filled_in() {
        let lot = new_lot(&valid()).unwrap();
        assert_eq!(lot.time_zone, "UTC");
        assert_eq!(lot.free_minutes, 30);
        assert_eq!(lot.slots.len(), 3);
        assert_eq!(lot.slots[0].connector.as_ref().unwrap().connector_id, "1");
        assert_eq!((lot.slots[2].kind, lot.slots[2].size), (Kind::Ice, Size::Motorbike));
        let lean = json!({ "name": "Lean", "timeZone": "Europe/Oslo",
                           "slots": [{ "slotId": "1", "level": "0", "kind": "ICE", "size": "CAR" }] });
        let lot = new_lot(&lean).unwrap();
        assert_eq!(
            (lot.time_zone.as_str(), lot.free_minutes, lot.tariff_id, lot.default_account),
            ("Europe/Oslo", 0, None, None)
        );
    }

    #[test]
    fn names_each_bad_field() {
        let mut body = valid();
        body["timeZone"] = json!("Mars/Olympus");
        body["freeMinutes"] = json!(-5);
        body["slots"][1]["kind"] = json!("DIESEL");
        body["slots"][1]["connector"] = json!({ "stationId": "st-1", "connectorId": "2" });
        body["slots"][2]["size"] = json!("BUS");
        body["slots"][2]["slotId"] = json!("A1");
        body["slots"][0]["connector"] = json!({ "stationId": "" });
        body["slots"][0]["colour"] = json!("red");
        let found = details(body);
        assert_eq!(found["timeZone"], "must be an IANA time zone such as \"Europe/Amsterdam\"");
        assert_eq!(found["freeMinutes"], "must be a whole number from 0 to 525600");
        assert_eq!(found["slots[1].kind"], "must be one of EV, ICE");
        assert_eq!(found["slots[2].size"], "must be one of MOTORBIKE, CAR, VAN");
        assert_eq!(found["slots[2].slotId"], "repeats slots[0].slotId");
        assert_eq!(found["slots[0].connector.stationId"], "must not be blank");
        assert_eq!(found["slots[0].connector.connectorId"], "is required");
        assert_eq!(found["slots[0].colour"], "is not a known field");
        assert!(found.get("slots[1].connector").is_none(), "an unknown kind says nothing of its connector: {found}");
        let found = details(json!({ "name": "x", "freeMinutes": 1.5, "slots": [
            { "slotId": "1", "level": "0", "kind": "ICE", "size": "CAR", "connector": { "stationId": "s", "connectorId": "1" } }
        ] }));
        assert_eq!(found["slots[0].connector"], "only an EV slot has a charging connector");
        assert!(found["freeMinutes"].is_string());
    }

    #[test]
    fn requires_one_to_the_most_slots() {
        let found = details(json!({}));
        assert_eq!(found["name"], "is required");
        assert_eq!(found["slots"], "is required");
        let found = details(json!({ "name": "x", "slots": [] }));
        assert_eq!(found["slots"], "must list 1 to 5000 slots");
        let many = vec![json!({ "slotId": "1" }); MAX_SLOTS + 1];
        let found = details(json!({ "name": "x", "slots": many }));
        assert_eq!(found["slots"], "must list at most 5000 items");
        assert_eq!(found.as_object().unwrap().len(), 1, "the slots are not read one by one: {found}");
    }

    #[test]
    fn repeats_name_the_first_slot_with_the_id() {
        let slot = json!({ "slotId": "A,1", "level": "0", "kind": "ICE", "size": "CAR" });
        let found = details(json!({ "name": "x", "slots": [slot, slot, slot] }));
        assert_eq!(found["slots[1].slotId"], "repeats slots[0].slotId");
        assert_eq!(found["slots[2].slotId"], "repeats slots[0].slotId");
    }
}
