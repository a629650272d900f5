//! Reading vehicle bodies. Every problem is collected, so one 422 names each bad field.

use std::collections::HashSet;

use joule_sdk::api::{ApiError, Problems, Reader};
use serde_json::Value;

use super::Vehicle;

/// The connector standards a vehicle may take, as stations name them.
pub const CONNECTOR_TYPES: [&str; 7] = ["CCS1", "CCS2", "CHAdeMO", "Type1", "Type2", "NACS", "GBT"];

const FIELDS: [&str; 5] = ["make", "model", "regnum", "connectorTypes", "batteryKwh"];
const MAX_NAME: usize = 64;
/// A plate as written, spaces and hyphens included.
const MAX_REGNUM: usize = 20;
const MAX_BATTERY_KWH: f64 = 1000.0;

const REGNUM_PROBLEM: &str = "must be a plate of letters A to Z and digits, with spaces or hyphens if you like";

#[derive(Debug, Clone, PartialEq)]
pub struct NewVehicle {
    pub make: String,
    pub model: String,
    pub regnum: String,
    pub connector_types: Vec<String>,
    pub battery_kwh: Option<f64>,
}

/// A partial update: `None` leaves a field as it is; `battery_kwh: Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VehiclePatch {
    pub make: Option<String>,
    pub model: Option<String>,
    pub regnum: Option<String>,
    pub connector_types: Option<Vec<String>>,
    pub battery_kwh: Option<Option<f64>>,
}

impl VehiclePatch {
    /// Applies the patch; returns the names of the fields whose value changed.
    pub fn apply(self, vehicle: &mut Vehicle) -> Vec<&'static str> {
        let mut changed = Vec::new();
        set(&mut vehicle.make, self.make, "make", &mut changed);
        set(&mut vehicle.model, self.model, "model", &mut changed);
        set(&mut vehicle.regnum, self.regnum, "regnum", &mut changed);
        set(&mut vehicle.connector_types, self.connector_types, "connectorTypes", &mut changed);
        set(&mut vehicle.battery_kwh, self.battery_kwh, "batteryKwh", &mut changed);
        changed
    }
}

fn set<T: PartialEq>(field: &mut T, value: Option<T>, name: &'static str, changed: &mut Vec<&'static str>) {
    if let Some(value) = value
        && *field != value
    {
        *field = value;
        changed.push(name);
    }
}

pub fn new_vehicle(body: &Value) -> Result<NewVehicle, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&FIELDS, &mut problems);
    let make = reader.string("make", MAX_NAME, &mut problems);
    let model = reader.string("model", MAX_NAME, &mut problems);
    let regnum = regnum(&reader, &mut problems);
    let connector_types = connector_types(&reader, body, &mut problems);
    let battery_kwh = battery_kwh(&reader, body, &mut problems);
    problems.finish()?;
    let complete = "every field was checked above";
    Ok(NewVehicle {
        make: make.expect(complete),
        model: model.expect(complete),
        regnum: regnum.expect(complete),
        connector_types: connector_types.expect(complete),
        battery_kwh: battery_kwh.expect(complete),
    })
}

pub fn vehicle_patch(body: &Value) -> Result<VehiclePatch, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&FIELDS, &mut problems);
    let mut patch = VehiclePatch::default();
    if reader.has("make") {
        patch.make = reader.string("make", MAX_NAME, &mut problems);
    }
    if reader.has("model") {
        patch.model = reader.string("model", MAX_NAME, &mut problems);
    }
    if reader.has("regnum") {
        patch.regnum = regnum(&reader, &mut problems);
    }
    if reader.has("connectorTypes") {
        patch.connector_types = connector_types(&reader, body, &mut problems);
    }
    patch.battery_kwh = battery_kwh(&reader, body, &mut problems).filter(|_| reader.has("batteryKwh"));
    problems.finish()?;
    Ok(patch)
}

/// A plate in its one stored form: upper case, without spaces and hyphens, so "ab-12 cd"
/// and "AB12CD" are one plate.
pub fn normalise_regnum(written: &str) -> Option<String> {
    let plate: String = written.chars().filter(|c| !matches!(c, ' ' | '-')).map(|c| c.to_ascii_uppercase()).collect();
    let fits = !plate.is_empty() && plate.chars().all(|c| c.is_ascii_alphanumeric());
    fits.then_some(plate)
}

fn regnum(reader: &Reader<'_>, problems: &mut Problems) -> Option<String> {
    let written = reader.string("regnum", MAX_REGNUM, problems)?;
    let plate = normalise_regnum(&written);
    if plate.is_none() {
        problems.add(reader.path("regnum"), REGNUM_PROBLEM);
    }
    plate
}

/// One to seven distinct connector types, required.
fn connector_types(reader: &Reader<'_>, body: &Value, problems: &mut Problems) -> Option<Vec<String>> {
    let key = "connectorTypes";
    if !body.is_object() {
        return None;
    }
    if body.get(key).is_none_or(Value::is_null) {
        problems.add(reader.path(key), "is required");
        return None;
    }
    let types = reader.strings(key, CONNECTOR_TYPES.len(), 16, problems)?;
    let mut seen = HashSet::new();
    let fits =
        !types.is_empty() && types.iter().all(|t| CONNECTOR_TYPES.contains(&t.as_str()) && seen.insert(t.as_str()));
    if !fits {
        problems.add(reader.path(key), format!("must list 1 to 7 distinct types of {}", CONNECTOR_TYPES.join(", ")));
        return None;
    }
    Some(types)
}

/// The battery's usable capacity: absent or null for unknown, else above 0 and at most 1000.
fn battery_kwh(reader: &Reader<'_>, body: &Value, problems: &mut Problems) -> Option<Option<f64>> {
    let key = "batteryKwh";
    match body.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(_) => {
            let kwh = reader.number(key, 0.0, MAX_BATTERY_KWH, problems)?;
            if kwh <= 0.0 {
                problems.add(reader.path(key), format!("must be above 0 and at most {MAX_BATTERY_KWH}"));
                return None;
            }
            Some(Some(kwh))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid() -> Value {
        json!({ "make": "Renault", "model": "Zoe", "regnum": "ab-12 cd", "connectorTypes": ["Type2", "CCS2"], "batteryKwh": 52 })
    }

    fn details(error: ApiError) -> Value {
        assert_eq!(error.status, 422);
        error.details.unwrap()
    }

    #[test]
    fn accepts_a_vehicle_and_normalises_its_plate() {
        let vehicle = new_vehicle(&valid()).unwrap();
        assert_eq!(vehicle.regnum, "AB12CD");
        assert_eq!(vehicle.connector_types, ["Type2", "CCS2"]);
        assert_eq!(vehicle.battery_kwh, Some(52.0));
        let mut body = valid();
        body.as_object_mut().unwrap().remove("batteryKwh");
        assert_eq!(new_vehicle(&body).unwrap().battery_kwh, None);
    }

    #[test]
    fn names_each_bad_field() {
        let body = json!({ "make": "", "regnum": "AB_12", "connectorTypes": ["Type2", "Type2"], "batteryKwh": 0, "colour": "red" });
        let found = details(new_vehicle(&body).unwrap_err());
        assert_eq!(found["make"], "must not be blank");
        assert_eq!(found["model"], "is required");
        assert_eq!(found["regnum"], REGNUM_PROBLEM);
        assert!(found["connectorTypes"].as_str().unwrap().contains("distinct"), "{found}");
        assert!(found["batteryKwh"].as_str().unwrap().contains("above 0"), "{found}");
        assert_eq!(found["colour"], "is not a known field");
        let found = details(
            new_vehicle(&json!({ "make": "a", "model": "b", "regnum": "- -", "connectorTypes": [] })).unwrap_err(),
        );
        assert_eq!(found["regnum"], REGNUM_PROBLEM);
        assert!(found["connectorTypes"].is_string());
        let found = details(new_vehicle(&json!({ "connectorTypes": ["Plug"], "batteryKwh": "52" })).unwrap_err());
        assert!(found["connectorTypes"].is_string() && found["batteryKwh"].is_string(), "{found}");
    }

    #[test]
    fn plates_compare_in_one_form() {
        assert_eq!(normalise_regnum("ab-12 cd").as_deref(), Some("AB12CD"));
        assert_eq!(normalise_regnum("AB12CD").as_deref(), Some("AB12CD"));
        for bad in ["", " - ", "AB.12", "ÅB12", "AB\t12"] {
            assert_eq!(normalise_regnum(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let patch = vehicle_patch(&json!({ "model": "Zoe E-Tech", "batteryKwh": null })).unwrap();
        assert_eq!(patch.model.as_deref(), Some("Zoe E-Tech"));
        assert_eq!(patch.battery_kwh, Some(None));
        assert_eq!(patch.regnum, None);
        assert_eq!(vehicle_patch(&json!({})).unwrap(), VehiclePatch::default());
        let found = details(vehicle_patch(&json!({ "make": null, "connectorTypes": null })).unwrap_err());
        assert_eq!(found["make"], "is required");
        assert_eq!(found["connectorTypes"], "is required");
    }
}
