//! Field-by-field validation of JSON bodies, collecting every problem so a 422 can
//! name each bad field at once (`"location.lat": "must be between -90 and 90"`).
//!
//! Every reader is bounded: strings by length and characters, numbers by range, arrays by
//! count, so nothing a body holds can overflow what a component computes or stores.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::{Problems, text, timestamp};

/// The longest decimal text read: 29 digits, a sign and a point, with room to spare. Longer
/// text cannot be a decimal this API computes with, and would be stored as sent.
pub const MAX_DECIMAL_CHARS: usize = 40;

/// Plain decimal text: an optional minus, digits, and optionally a point and more digits.
/// rust_decimal alone also reads "1_000", "1e5", "+1" and ".5", which the API does not promise.
fn plain_decimal(text: &str) -> bool {
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    match unsigned.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(unsigned),
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

/// Whether a string may span lines: free text may hold tabs and line breaks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    One,
    Many,
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

    /// Reads an array of at most `max` objects; a missing one is reported only when
    /// `required`. A longer one is reported as a whole, and its items are not read.
    pub fn objects(&self, key: &str, required: bool, max: usize, problems: &mut Problems) -> Option<Vec<Reader<'a>>> {
        let path = self.path(key);
        match self.present(key, required, problems)? {
            Value::Array(items) if items.len() > max => {
                problems.add(path, format!("must list at most {max} items"));
                None
            }
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

    /// A single-line string field that must be present, non-blank and at most `max` characters.
    pub fn string(&self, key: &str, max: usize, problems: &mut Problems) -> Option<String> {
        self.required(key, self.read_string(key, max, Lines::One, problems), problems)
    }

    /// A single-line string field that may be absent or null: `Some(None)` then, `None` on a
    /// problem. It holds no control characters, tabs and line breaks included.
    pub fn optional_string(&self, key: &str, max: usize, problems: &mut Problems) -> Option<Option<String>> {
        self.read_string(key, max, Lines::One, problems)
    }

    /// Free text that must be present: as [`Reader::string`], but tabs and line breaks are allowed.
    pub fn text(&self, key: &str, max: usize, problems: &mut Problems) -> Option<String> {
        self.required(key, self.read_string(key, max, Lines::Many, problems), problems)
    }

    /// Free text that may be absent or null: as [`Reader::optional_string`], but tabs and
    /// line breaks are allowed.
    pub fn optional_text(&self, key: &str, max: usize, problems: &mut Problems) -> Option<Option<String>> {
        self.read_string(key, max, Lines::Many, problems)
    }

    fn read_string(&self, key: &str, max: usize, lines: Lines, problems: &mut Problems) -> Option<Option<String>> {
        self.object?;
        let problem = match self.get(key) {
            None | Some(Value::Null) => return Some(None),
            Some(Value::String(s)) if lines == Lines::One && text::forbidden_in_line(s) => {
                "must not contain control characters".to_string()
            }
            Some(Value::String(s)) if text::forbidden_in_text(s) => {
                "must not contain control characters other than tabs and line breaks".to_string()
            }
            Some(Value::String(s)) if s.trim().is_empty() => "must not be blank".to_string(),
            Some(Value::String(s)) if s.chars().count() > max => format!("must be at most {max} characters"),
            Some(Value::String(s)) => return Some(Some(s.clone())),
            Some(_) => "must be a string".to_string(),
        };
        problems.add(self.path(key), problem);
        None
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

    /// An exact decimal within `min..=max`, written as a JSON string ("0.25") or number;
    /// `Some(None)` when absent.
    pub fn optional_decimal(&self, key: &str, min: Decimal, max: Decimal, problems: &mut Problems) -> Option<Option<Decimal>> {
        self.object?;
        let parsed = match self.get(key) {
            None => return Some(None),
            Some(Value::Null) => return self.null(key, problems),
            Some(Value::String(text)) if text.len() <= MAX_DECIMAL_CHARS && plain_decimal(text) => text.parse::<Decimal>().ok(),
            // A JSON number prints as the shortest text that reads back, "1e-7" included.
            Some(Value::Number(number)) => {
                let text = number.to_string();
                text.parse::<Decimal>().or_else(|_| Decimal::from_scientific(&text)).ok()
            }
            Some(_) => None,
        };
        match parsed {
            Some(value) if (min..=max).contains(&value) => Some(Some(value)),
            Some(_) => {
                problems.add(self.path(key), format!("must be from {min} to {max}"));
                None
            }
            None => {
                problems.add(self.path(key), "must be a decimal number, such as \"0.25\"");
                None
            }
        }
    }

    /// An RFC 3339 timestamp, kept within years 0001 to 9999 in UTC; `Some(None)` when absent.
    pub fn optional_timestamp(&self, key: &str, problems: &mut Problems) -> Option<Option<DateTime<Utc>>> {
        match self.optional_string(key, 40, problems)? {
            None => Some(None),
            Some(text) => match timestamp::parse(&text) {
                Ok(at) => Some(Some(at)),
                Err(problem) => {
                    problems.add(self.path(key), problem);
                    None
                }
            },
        }
    }

    /// An RFC 3339 timestamp that must be present.
    pub fn timestamp(&self, key: &str, problems: &mut Problems) -> Option<DateTime<Utc>> {
        self.required(key, self.optional_timestamp(key, problems), problems)
    }

    /// A whole number within `min..=max`; `Some(None)` when absent.
    pub fn optional_whole(&self, key: &str, min: u64, max: u64, problems: &mut Problems) -> Option<Option<u64>> {
        self.object?;
        match self.get(key) {
            None => Some(None),
            Some(Value::Null) => self.null(key, problems),
            Some(Value::Number(n)) if n.as_u64().is_some_and(|v| (min..=max).contains(&v)) => Some(n.as_u64()),
            Some(_) => {
                problems.add(self.path(key), format!("must be a whole number from {min} to {max}"));
                None
            }
        }
    }

    /// A whole number within `min..=max` that must be present.
    pub fn whole(&self, key: &str, min: u64, max: u64, problems: &mut Problems) -> Option<u64> {
        self.required(key, self.optional_whole(key, min, max, problems), problems)
    }

    /// A list of at most `max_items` single-line strings of at most `max_chars`; empty when absent.
    pub fn strings(&self, key: &str, max_items: usize, max_chars: usize, problems: &mut Problems) -> Option<Vec<String>> {
        self.object?;
        let fits = |v: &Value| v.as_str().is_some_and(|s| s.chars().count() <= max_chars && !text::forbidden_in_line(s));
        match self.get(key) {
            None => Some(Vec::new()),
            Some(Value::Null) => self.null(key, problems),
            Some(Value::Array(items)) if items.len() <= max_items && items.iter().all(fits) => {
                Some(items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            }
            Some(_) => {
                problems.add(
                    self.path(key),
                    format!("must be a list of at most {max_items} strings of at most {max_chars} characters"),
                );
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
                problems.add(self.path(&text::printable(key)), "is not a known field");
            }
        }
    }

    /// The full path of a field, for problems the caller finds itself.
    pub fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() { key.to_string() } else { format!("{}.{key}", self.prefix) }
    }

    /// The field's value: absent or null is reported when `required`, null refused otherwise.
    fn present(&self, key: &str, required: bool, problems: &mut Problems) -> Option<&'a Value> {
        self.object?;
        match self.get(key) {
            None | Some(Value::Null) if required => {
                problems.add(self.path(key), "is required");
                None
            }
            Some(Value::Null) => self.null(key, problems),
            value => value,
        }
    }

    /// Null stands for "absent" only in string fields, as openapi.yaml's types say; anywhere
    /// else it is refused, so what is stored and echoed always matches the schema.
    fn null<T>(&self, key: &str, problems: &mut Problems) -> Option<T> {
        problems.add(self.path(key), "must not be null (leave it out when it does not apply)");
        None
    }

    /// A value read as optional, which must be there: "is required" when absent.
    fn required<T>(&self, key: &str, read: Option<Option<T>>, problems: &mut Problems) -> Option<T> {
        match read? {
            Some(value) => Some(value),
            None => {
                problems.add(self.path(key), "is required");
                None
            }
        }
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
        for connector in reader.objects("connectors", true, 8, &mut problems).unwrap() {
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
    fn null_stands_for_absent_only_in_strings() {
        let body = json!({ "vat": null, "step": null, "days": null, "options": null, "items": null, "at": null });
        let mut problems = Problems::new();
        let reader = Reader::body(&body, &mut problems);
        assert_eq!(reader.optional_timestamp("at", &mut problems), Some(None));
        assert_eq!(reader.optional_decimal("vat", Decimal::ZERO, Decimal::ONE_HUNDRED, &mut problems), None);
        assert_eq!(reader.optional_whole("step", 1, 10, &mut problems), None);
        assert!(reader.strings("days", 7, 10, &mut problems).is_none());
        assert!(reader.object("options", false, &mut problems).is_none());
        assert!(reader.objects("items", true, 5, &mut problems).is_none());
        let details = problems.finish().unwrap_err().details.unwrap();
        for field in ["vat", "step", "days", "options"] {
            assert_eq!(details[field], "must not be null (leave it out when it does not apply)", "{details}");
        }
        assert_eq!(details["items"], "is required");
        assert!(details.get("at").is_none());
    }

    #[test]
    fn a_body_that_is_not_an_object_is_a_problem() {
        let mut problems = Problems::new();
        Reader::body(&json!([1, 2]), &mut problems);
        assert!(problems.finish().is_err());
    }

    #[test]
    fn refuses_control_characters_in_every_string_read() {
        let body = json!({ "id": "a\u{0}b", "name": "two\nlines", "note": "two\nlines", "bell": "\u{7}", "days": ["MON\u{0}"] });
        let mut problems = Problems::new();
        let reader = Reader::body(&body, &mut problems);
        assert_eq!(reader.optional_string("id", 10, &mut problems), None);
        assert_eq!(reader.string("name", 20, &mut problems), None, "a single-line string has no line breaks");
        assert_eq!(reader.optional_text("note", 20, &mut problems), Some(Some("two\nlines".into())));
        assert_eq!(reader.text("bell", 20, &mut problems), None);
        assert_eq!(reader.strings("days", 7, 10, &mut problems), None);
        let details = problems.finish().unwrap_err().details.unwrap();
        assert_eq!(details["id"], "must not contain control characters");
        assert_eq!(details["name"], "must not contain control characters");
        assert_eq!(details["bell"], "must not contain control characters other than tabs and line breaks");
        assert!(details["days"].is_string());
        assert!(details.get("note").is_none());
    }

    #[test]
    fn numbers_decimals_and_lists_are_bounded() {
        let body = json!({
            "count": 18_446_744_073_709_551_615u64, "small": 5, "negative": -1, "huge": 1e300,
            "price": "79000000000000000000000000000", "cheap": "0.25", "long": format!("0.{}", "0".repeat(60)),
            "items": [{}, {}, {}], "words": ["a", "b", "c"]
        });
        let mut problems = Problems::new();
        let reader = Reader::body(&body, &mut problems);
        let (zero, limit) = (Decimal::ZERO, Decimal::from(1_000_000_000));
        assert_eq!(reader.optional_whole("count", 0, 1_000, &mut problems), None);
        assert_eq!(reader.whole("small", 0, 1_000, &mut problems), Some(5));
        assert_eq!(reader.whole("negative", 0, 1_000, &mut problems), None);
        assert_eq!(reader.whole("huge", 0, u64::MAX, &mut problems), None);
        assert_eq!(reader.optional_decimal("price", zero, limit, &mut problems), None);
        assert_eq!(reader.optional_decimal("cheap", zero, limit, &mut problems), Some(Some("0.25".parse().unwrap())));
        assert_eq!(reader.optional_decimal("long", zero, limit, &mut problems), None);
        assert!(reader.objects("items", true, 2, &mut problems).is_none());
        assert!(reader.strings("words", 2, 10, &mut problems).is_none());
        let details = problems.finish().unwrap_err().details.unwrap();
        for field in ["count", "negative", "huge", "price", "long", "items", "words"] {
            assert!(details[field].is_string(), "{field} missing from {details}");
        }
        assert_eq!(details["price"], "must be from 0 to 1000000000");
        let small = json!({ "tiny": 1e-7, "plain": 0.25 });
        let mut fine = Problems::new();
        let reader = Reader::body(&small, &mut fine);
        assert_eq!(reader.optional_decimal("tiny", zero, limit, &mut fine), Some(Some("0.0000001".parse().unwrap())));
        assert_eq!(reader.optional_decimal("plain", zero, limit, &mut fine), Some(Some("0.25".parse().unwrap())));
        assert!(fine.is_empty());
        for odd in ["1_000", "1e5", "+1", ".5", "1.", " 1", "0x10", "", "-"] {
            assert!(!plain_decimal(odd), "{odd:?}");
        }
        for plain in ["0", "-0.25", "12.5000", "1000000000"] {
            assert!(plain_decimal(plain), "{plain:?}");
        }
        assert_eq!(details["items"], "must list at most 2 items");
    }

    #[test]
    fn timestamps_stay_within_the_years_kept() {
        let body = json!({ "late": "9999-12-31T23:00:00-05:00", "fine": "2026-11-23T10:00:00+01:00" });
        let mut problems = Problems::new();
        let reader = Reader::body(&body, &mut problems);
        assert_eq!(reader.timestamp("late", &mut problems), None);
        assert!(reader.timestamp("fine", &mut problems).is_some());
        let details = problems.finish().unwrap_err().details.unwrap();
        assert_eq!(details["late"], timestamp::RANGE_PROBLEM);
    }
}
