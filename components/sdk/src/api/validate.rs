//! Field-by-field validation of JSON bodies, collecting every problem so a 422 can
//! name each bad field at once (`"location.lat": "must be between -90 and 90"`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::ApiError;

/// The problems found in a request, by field path.
#[derive(Debug, Default)]
pub struct Problems {
    fields: BTreeMap<String, String>,
}

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.fields.entry(field.into()).or_insert_with(|| problem.into());
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The problems found, by field path.
    pub fn into_fields(self) -> impl Iterator<Item = (String, String)> {
        self.fields.into_iter()
    }

    /// The 422 for one bad field, found after the rest were read.
    pub fn one(field: &str, problem: &str) -> ApiError {
        let mut problems = Self::new();
        problems.add(field, problem);
        problems.finish().expect_err("one problem was added")
    }

    /// `Ok` when nothing was found, otherwise the 422 naming each field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.fields.is_empty() {
            return Ok(());
        }
        let count = self.fields.len();
        let message = if count == 1 { "1 field is invalid".to_string() } else { format!("{count} fields are invalid") };
        let details = serde_json::to_value(&self.fields).expect("strings serialise");
        Err(ApiError::new(422, "validation_failed", message).with_details(details))
    }
}

/// Reads typed fields out of one JSON object, recording problems under `prefix`.
///
/// A reader over something that is not an object (already reported as such) reads
/// nothing and reports nothing more.
pub struct Reader<'a> {
    object: Option<&'a Map<String, Value>>,
    prefix: String,
}

impl<'a> Reader<'a> {
    /// Reads the request body, which must be an object.
    pub fn body(value: &'a Value, problems: &mut Problems) -> Self {
        if !value.is_object() {
            problems.add("body", "must be a JSON object");
        }
        Self { object: value.as_object(), prefix: String::new() }
    }

    /// Reads a nested object; a missing one is reported only when `required`.
    pub fn object(&self, key: &str, required: bool, problems: &mut Problems) -> Option<Reader<'a>> {
        match self.present(key, required, problems)? {
            Value::Object(object) => Some(Reader { object: Some(object), prefix: self.path(key) }),
            _ => {
                problems.add(self.path(key), "must be an object");
                None
            }
        }
    }

    /// Reads an array of objects; a missing one is reported only when `required`.
    pub fn objects(&self, key: &str, required: bool, problems: &mut Problems) -> Option<Vec<Reader<'a>>> {
        let path = self.path(key);
        match self.present(key, required, problems)? {
            Value::Array(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let prefix = format!("{path}[{i}]");
                        if !item.is_object() {
                            problems.add(prefix.clone(), "must be an object");
                        }
                        Reader { object: item.as_object(), prefix }
                    })
                    .collect(),
            ),
            _ => {
                problems.add(path, "must be an array");
                None
            }
        }
    }

    /// A string field that must be present, non-blank and at most `max` characters.
    pub fn string(&self, key: &str, max: usize, problems: &mut Problems) -> Option<String> {
        match self.optional_string(key, max, problems) {
            Some(Some(value)) => Some(value),
            Some(None) => {
                problems.add(self.path(key), "is required");
                None
            }
            None => None,
        }
    }

    /// A string field that may be absent or null: `Some(None)` then, `None` on a problem.
    pub fn optional_string(&self, key: &str, max: usize, problems: &mut Problems) -> Option<Option<String>> {
        self.object?;
        match self.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) if s.trim().is_empty() => {
                problems.add(self.path(key), "must not be blank");
                None
            }
            Some(Value::String(s)) if s.chars().count() > max => {
                problems.add(self.path(key), format!("must be at most {max} characters"));
                None
            }
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => {
                problems.add(self.path(key), "must be a string");
                None
            }
        }
    }

    /// A number field that must be present and within `min..=max`.
    pub fn number(&self, key: &str, min: f64, max: f64, problems: &mut Problems) -> Option<f64> {
        match self.present(key, true, problems)? {
            Value::Number(n) => match n.as_f64() {
                Some(v) if (min..=max).contains(&v) => Some(v),
                _ => {
                    problems.add(self.path(key), format!("must be between {min} and {max}"));
                    None
                }
            },
            _ => {
                problems.add(self.path(key), "must be a number");
                None
            }
        }
    }

    /// The field's value unless it is absent or null, which is reported when `required`.
    fn present(&self, key: &str, required: bool, problems: &mut Problems) -> Option<&'a Value> {
        self.object?;
        match self.get(key) {
            None | Some(Value::Null) => {
                if required {
                    problems.add(self.path(key), "is required");
                }
                None
            }
            value => value,
        }
    }

    /// An exact decimal, written as a JSON string ("0.25") or number; `Some(None)` when absent.
    pub fn optional_decimal(&self, key: &str, problems: &mut Problems) -> Option<Option<Decimal>> {
        self.object?;
        let parsed = match self.get(key) {
            None | Some(Value::Null) => return Some(None),
            Some(Value::String(text)) => text.parse::<Decimal>().ok(),
            Some(Value::Number(number)) => number.to_string().parse::<Decimal>().ok(),
            Some(_) => None,
        };
        if parsed.is_none() {
            problems.add(self.path(key), "must be a decimal number, such as \"0.25\"");
            return None;
        }
        Some(parsed)
    }

    /// An RFC 3339 timestamp; `Some(None)` when absent.
    pub fn optional_timestamp(&self, key: &str, problems: &mut Problems) -> Option<Option<DateTime<Utc>>> {
        match self.optional_string(key, 40, problems)? {
            None => Some(None),
            Some(text) => match DateTime::parse_from_rfc3339(&text) {
                Ok(at) => Some(Some(at.with_timezone(&Utc))),
                Err(_) => {
                    problems.add(self.path(key), "must be an RFC 3339 timestamp, such as \"2026-11-22T17:00:00Z\"");
                    None
                }
            },
        }
    }

    /// An RFC 3339 timestamp that must be present.
    pub fn timestamp(&self, key: &str, problems: &mut Problems) -> Option<DateTime<Utc>> {
        match self.optional_timestamp(key, problems)? {
            Some(at) => Some(at),
            None => {
                problems.add(self.path(key), "is required");
                None
            }
        }
    }

    /// A whole number from `min` up; `Some(None)` when absent.
    pub fn optional_whole(&self, key: &str, min: u64, problems: &mut Problems) -> Option<Option<u64>> {
        self.object?;
        match self.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v >= min) => Some(n.as_u64()),
            Some(_) => {
                problems.add(self.path(key), format!("must be a whole number of at least {min}"));
                None
            }
        }
    }

    /// A whole number from `min` up that must be present.
    pub fn whole(&self, key: &str, min: u64, problems: &mut Problems) -> Option<u64> {
        match self.optional_whole(key, min, problems)? {
            Some(value) => Some(value),
            None => {
                problems.add(self.path(key), "is required");
                None
            }
        }
    }

    /// A list of strings; empty when absent.
    pub fn strings(&self, key: &str, problems: &mut Problems) -> Option<Vec<String>> {
        self.object?;
        match self.get(key) {
            None | Some(Value::Null) => Some(Vec::new()),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                Some(items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            }
            Some(_) => {
                problems.add(self.path(key), "must be a list of strings");
                None
            }
        }
    }

    /// Whether the field is present at all, even as null.
    pub fn has(&self, key: &str) -> bool {
        self.object.is_some_and(|o| o.contains_key(key))
    }

    /// Reports every field that is not in `known`.
    pub fn only(&self, known: &[&str], problems: &mut Problems) {
        for key in self.object.into_iter().flat_map(Map::keys) {
            if !known.contains(&key.as_str()) {
                problems.add(self.path(key), "is not a known field");
            }
        }
    }

    /// The full path of a field, for problems the caller finds itself.
    pub fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() { key.to_string() } else { format!("{}.{key}", self.prefix) }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.object.and_then(|o| o.get(key))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_every_bad_field_by_path() {
        let body = json!({
            "name": "",
            "location": { "lat": 120, "lng": "east" },
            "connectors": [{ "maxPowerKw": 50 }, 7],
            "extra": true,
        });
        let mut problems = Problems::new();
        let reader = Reader::body(&body, &mut problems);
        reader.only(&["name", "location", "connectors"], &mut problems);
        reader.string("name", 10, &mut problems);
        let location = reader.object("location", true, &mut problems).unwrap();
        location.number("lat", -90.0, 90.0, &mut problems);
        location.number("lng", -180.0, 180.0, &mut problems);
        for connector in reader.objects("connectors", true, &mut problems).unwrap() {
            connector.string("connectorId", 36, &mut problems);
        }
        let error = problems.finish().unwrap_err();
        assert_eq!(error.status, 422);
        assert_eq!(
            error.details.unwrap(),
            json!({
                "name": "must not be blank",
                "location.lat": "must be between -90 and 90",
                "location.lng": "must be a number",
                "connectors[0].connectorId": "is required",
                "connectors[1]": "must be an object",
                "extra": "is not a known field",
            })
        );
    }

    #[test]
    fn absent_optional_fields_are_fine() {
        let body = json!({ "address": null });
        let mut problems = Problems::new();
        let reader = Reader::body(&body, &mut problems);
        assert_eq!(reader.optional_string("address", 10, &mut problems), Some(None));
        assert!(reader.object("location", false, &mut problems).is_none());
        assert!(problems.finish().is_ok());
    }

    #[test]
    fn a_body_that_is_not_an_object_is_a_problem() {
        let mut problems = Problems::new();
        Reader::body(&json!([1, 2]), &mut problems);
        assert!(problems.finish().is_err());
    }
}
