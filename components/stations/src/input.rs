//! Reading and validating request bodies. Every problem is collected, so one 422
//! names each bad field.

use std::collections::HashMap;

use joule_sdk::api::{ApiError, Problems, Reader};
use serde_json::Value;

use crate::ocpp_input::{self, OcppConfig};
use crate::station::{CONNECTOR_STATUSES, CONNECTOR_TYPES, Location};

// Every string and list is bounded, so a station's events stay a few KiB.
const MAX_NAME: usize = 200;
/// An address is free text: it may span lines.
const MAX_ADDRESS: usize = 500;
const MAX_TARIFF_ID: usize = 64;
const MAX_CONNECTOR_ID: usize = 36;
const MAX_CONNECTORS: usize = 32;
const MAX_POWER_KW: f64 = 1000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct NewConnector {
    pub connector_id: String,
    pub kind: String,
    pub max_power_kw: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewStation {
    pub name: String,
    pub location: Location,
    pub address: Option<String>,
    pub time_zone: String,
    pub tariff_id: Option<String>,
    pub connectors: Vec<NewConnector>,
    pub ocpp: Option<OcppConfig>,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationPatch {
    pub name: Option<String>,
    pub location: Option<Location>,
    pub address: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub tariff_id: Option<Option<String>>,
    pub connectors: Option<Vec<NewConnector>>,
    /// `Some(None)` removes the charge point.
    pub ocpp: Option<Option<OcppConfig>>,
}

const FIELDS: [&str; 7] = ["name", "location", "address", "timeZone", "tariffId", "connectors", "ocpp"];

pub fn new_station(body: &Value) -> Result<NewStation, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&FIELDS, &mut problems);
    let name = reader.string("name", MAX_NAME, &mut problems);
    let location = reader.object("location", true, &mut problems).and_then(|l| location(&l, &mut problems));
    let address = reader.optional_text("address", MAX_ADDRESS, &mut problems);
    let time_zone = time_zone(&reader, &mut problems);
    let tariff_id = reader.optional_string("tariffId", MAX_TARIFF_ID, &mut problems);
    let connectors = connectors(&reader, true, &mut problems);
    let ocpp = ocpp_input::ocpp(body, &reader, &mut problems);
    problems.finish()?;
    let complete = "every field was checked above";
    Ok(NewStation {
        name: name.expect(complete),
        location: location.expect(complete),
        address: address.expect(complete),
        time_zone: time_zone.expect(complete),
        tariff_id: tariff_id.expect(complete),
        connectors: connectors.expect(complete),
        ocpp: ocpp.expect(complete),
    })
}

pub fn station_patch(body: &Value) -> Result<StationPatch, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&FIELDS, &mut problems);
    let mut patch = StationPatch::default();
    if reader.has("name") {
        patch.name = reader.string("name", MAX_NAME, &mut problems);
    }
    if reader.has("location") {
        patch.location = reader.object("location", true, &mut problems).and_then(|l| location(&l, &mut problems));
    }
    if reader.has("address") {
        patch.address = reader.optional_text("address", MAX_ADDRESS, &mut problems);
    }
    if reader.has("timeZone") {
        patch.time_zone = time_zone(&reader, &mut problems);
    }
    if reader.has("tariffId") {
        patch.tariff_id = reader.optional_string("tariffId", MAX_TARIFF_ID, &mut problems);
    }
    if reader.has("connectors") {
        patch.connectors = connectors(&reader, true, &mut problems);
    }
    if reader.has("ocpp") {
        patch.ocpp = ocpp_input::ocpp(body, &reader, &mut problems);
    }
    problems.finish()?;
    Ok(patch)
}

/// The body of `PUT .../connectors/{connectorId}/status`.
pub fn connector_status(body: &Value) -> Result<String, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&["status"], &mut problems);
    let status = reader.string("status", 32, &mut problems);
    if let Some(status) = &status
        && !CONNECTOR_STATUSES.contains(&status.as_str())
    {
        problems.add("status", format!("must be one of {}", CONNECTOR_STATUSES.join(", ")));
    }
    problems.finish()?;
    Ok(status.expect("checked above"))
}

fn location(reader: &Reader<'_>, problems: &mut Problems) -> Option<Location> {
    reader.only(&["lat", "lng"], problems);
    let lat = reader.number("lat", -90.0, 90.0, problems);
    let lng = reader.number("lng", -180.0, 180.0, problems);
    Some(Location { lat: lat?, lng: lng? })
}

fn time_zone(reader: &Reader<'_>, problems: &mut Problems) -> Option<String> {
    let zone = reader.string("timeZone", 64, problems)?;
    if zone.parse::<chrono_tz::Tz>().is_err() {
        problems.add(reader.path("timeZone"), "must be an IANA time zone such as \"Europe/Amsterdam\"");
        return None;
    }
    Some(zone)
}

fn connectors(reader: &Reader<'_>, required: bool, problems: &mut Problems) -> Option<Vec<NewConnector>> {
    // Past the most, the list is refused as a whole; its connectors are not read one by one.
    let items = reader.objects("connectors", required, MAX_CONNECTORS, problems)?;
    if items.is_empty() {
        problems.add(reader.path("connectors"), format!("must list 1 to {MAX_CONNECTORS} connectors"));
        return None;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut connectors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        item.only(&["connectorId", "type", "maxPowerKw"], problems);
        let id = item.string("connectorId", MAX_CONNECTOR_ID, problems);
        if let Some(id) = &id {
            if !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
                problems.add(item.path("connectorId"), "may hold only letters, digits, '-', '_' and '.'");
            } else if let Some(first) = seen.insert(id.clone(), i) {
                problems.add(item.path("connectorId"), format!("repeats connectors[{first}].connectorId"));
            }
        }
        let kind = item.string("type", 16, problems);
        if let Some(kind) = &kind
            && !CONNECTOR_TYPES.contains(&kind.as_str())
        {
            problems.add(item.path("type"), format!("must be one of {}", CONNECTOR_TYPES.join(", ")));
        }
        // Above 0, as openapi.yaml's exclusiveMinimum says: however small, a positive power is fine.
        let power = item.number("maxPowerKw", 0.0, MAX_POWER_KW, problems).filter(|kw| *kw > 0.0);
        if power.is_none() && item.has("maxPowerKw") {
            problems.add(item.path("maxPowerKw"), format!("must be above 0 and at most {MAX_POWER_KW}"));
        }
        if let (Some(connector_id), Some(kind), Some(max_power_kw)) = (id, kind, power) {
            connectors.push(NewConnector { connector_id, kind, max_power_kw });
        }
    }
    (connectors.len() == items.len()).then_some(connectors)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid() -> Value {
        json!({
            "name": "Harbour Hub",
            "location": { "lat": 52.37, "lng": 4.89 },
            "timeZone": "Europe/Amsterdam",
            "connectors": [
                { "connectorId": "1", "type": "CCS2", "maxPowerKw": 150 },
                { "connectorId": "2", "type": "Type2", "maxPowerKw": 22 }
            ]
        })
    }

    fn details(error: ApiError) -> Value {
        assert_eq!(error.status, 422);
        error.details.unwrap()
    }

    #[test]
    fn accepts_a_valid_station() {
        let station = new_station(&valid()).unwrap();
        assert_eq!(station.name, "Harbour Hub");
        assert_eq!(station.address, None);
        assert_eq!(station.connectors[1].max_power_kw, 22.0);
        assert_eq!(station.ocpp, None);
    }

    #[test]
    fn names_each_invalid_field() {
        let mut body = valid();
        body["timeZone"] = json!("Mars/Olympus");
        body["location"]["lat"] = json!(91);
        body["connectors"][1]["connectorId"] = json!("1");
        body["connectors"][0]["type"] = json!("Plug");
        body["connectors"][0]["maxPowerKw"] = json!(0);
        body["ocpp"] = json!({ "chargePointId": "CP:1", "protocol": "ocpp3" });
        let details = details(new_station(&body).unwrap_err());
        for field in [
            "timeZone",
            "location.lat",
            "connectors[1].connectorId",
            "connectors[0].type",
            "connectors[0].maxPowerKw",
            "ocpp.chargePointId",
            "ocpp.protocol",
        ] {
            assert!(details.get(field).is_some(), "{field} missing from {details}");
        }
    }

    #[test]
    fn requires_the_required_fields() {
        let details = details(new_station(&json!({})).unwrap_err());
        for field in ["name", "location", "timeZone", "connectors"] {
            assert_eq!(details[field], "is required", "{field}");
        }
        let details = details_of(json!({ "connectors": [] }));
        assert!(details["connectors"].as_str().unwrap().contains("1 to 32"));
    }

    fn details_of(body: Value) -> Value {
        details(new_station(&body).unwrap_err())
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let patch = station_patch(&json!({ "name": "New", "address": null })).unwrap();
        assert_eq!(patch.name.as_deref(), Some("New"));
        assert_eq!(patch.address, Some(None));
        assert_eq!(patch.time_zone, None);
        assert_eq!(patch.connectors, None);
        assert_eq!(patch.ocpp, None);
        assert_eq!(station_patch(&json!({ "ocpp": null })).unwrap().ocpp, Some(None));
        let patch = station_patch(&json!({ "ocpp": { "chargePointId": "CP-1" } })).unwrap();
        assert_eq!(patch.ocpp.unwrap().unwrap().charge_point_id, "CP-1");
        let details = details(station_patch(&json!({ "name": null, "bogus": 1 })).unwrap_err());
        assert_eq!(details["name"], "is required");
        assert_eq!(details["bogus"], "is not a known field");
    }

    #[test]
    fn connector_status_must_be_known() {
        assert_eq!(connector_status(&json!({ "status": "Charging" })).unwrap(), "Charging");
        assert!(connector_status(&json!({ "status": "charging" })).is_err());
        assert!(connector_status(&json!({})).is_err());
    }

    #[test]
    fn refuses_control_characters_and_too_many_connectors() {
        let mut body = valid();
        body["name"] = json!("Harbour\u{0}Hub");
        body["tariffId"] = json!("t\u{0}");
        body["address"] = json!("Pier 1\nAmsterdam");
        let found = details(new_station(&body).unwrap_err());
        assert_eq!(found["name"], "must not contain control characters");
        assert_eq!(found["tariffId"], "must not contain control characters");
        assert!(found.get("address").is_none(), "an address may span lines: {found}");
        body = valid();
        body["address"] = json!("Pier 1\u{0}");
        body["connectors"] = json!(vec![body["connectors"][0].clone(); 10_000]);
        let found = details(new_station(&body).unwrap_err());
        assert_eq!(found["address"], "must not contain control characters other than tabs and line breaks");
        assert_eq!(found["connectors"], "must list at most 32 items");
        assert_eq!(found.as_object().unwrap().len(), 2, "the connectors are not read one by one: {found}");
        let patch = station_patch(&json!({ "name": "tab\there" })).unwrap_err();
        assert_eq!(details(patch)["name"], "must not contain control characters");
    }
}
