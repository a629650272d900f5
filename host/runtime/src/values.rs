//! Checking and normalising the text forms the `database` interface carries
//! (decimals, timestamps, dates, json, uuids), shared by every backend.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

pub fn decimal(text: &str) -> Result<Decimal, String> {
    text.parse::<Decimal>().map_err(|_| format!("{text:?} is not a decimal number"))
}

pub fn timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{text:?} is not an RFC 3339 timestamp"))
}

/// A timestamp in UTC with a fixed number of digits, so text order is time order.
pub fn timestamp_text(text: &str) -> Result<String, String> {
    Ok(timestamp(text)?.to_rfc3339_opts(SecondsFormat::Micros, true))
}

pub fn date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("{text:?} is not a date such as \"2026-11-22\""))
}

/// Checks that `text` is JSON and returns it unchanged.
pub fn json_text(text: &str) -> Result<String, String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| text.to_string())
        .map_err(|e| format!("not valid JSON: {e}"))
}

pub fn uuid(text: &str) -> Result<Uuid, String> {
    Uuid::parse_str(text).map_err(|_| format!("{text:?} is not a UUID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_become_fixed_width_utc() {
        assert_eq!(timestamp_text("2026-11-23T17:40:00+01:00").unwrap(), "2026-11-23T16:40:00.000000Z");
        assert_eq!(timestamp_text("2026-11-23T16:40:00.5Z").unwrap(), "2026-11-23T16:40:00.500000Z");
        assert!(timestamp_text("yesterday").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn checks_each_form() {
        assert_eq!(decimal("6.5650").unwrap().to_string(), "6.5650");
        assert!(decimal("6,5").is_err());
        assert!(date("2026-02-30").is_err());
        assert_eq!(json_text("{\"a\": 1}").unwrap(), "{\"a\": 1}");
        assert!(json_text("{a}").is_err());
        assert!(uuid("not-a-uuid").is_err());
    }
}
