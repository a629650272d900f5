//! Reading the API's RFC 3339 timestamps.
//!
//! RFC 3339 allows years 0000 to 9999 in any offset, so `9999-12-31T23:00:00-05:00` is year
//! 10000 in UTC: stored, it would no longer read back as RFC 3339, and Postgres has no year 0.
//! Every timestamp is therefore kept, in UTC, within years 0001 to 9999.

use chrono::{DateTime, NaiveDate, Utc};

/// What a problem says about a timestamp that is not one.
pub const FORMAT_PROBLEM: &str = "must be an RFC 3339 timestamp, such as \"2026-11-22T17:00:00Z\"";
/// What a problem says about a timestamp outside the years kept.
pub const RANGE_PROBLEM: &str = "must be in UTC between the years 0001 and 9999";

/// The earliest instant the API keeps: 0001-01-01T00:00:00Z.
pub fn earliest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1, 1, 1).expect("a valid date").and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// The latest instant the API keeps, to the microsecond the backends store.
pub fn latest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .expect("a valid date")
        .and_hms_micro_opt(23, 59, 59, 999_999)
        .expect("a valid time")
        .and_utc()
}

/// Parses an RFC 3339 timestamp into UTC; the error is the problem to report.
pub fn parse(text: &str) -> Result<DateTime<Utc>, &'static str> {
    let at = DateTime::parse_from_rfc3339(text).map_err(|_| FORMAT_PROBLEM)?.with_timezone(&Utc);
    if at < earliest() || at > latest() {
        return Err(RANGE_PROBLEM);
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_utc_years_one_to_9999() {
        assert!(parse("2026-11-23T17:40:00+01:00").is_ok());
        assert!(parse("0001-01-01T00:00:00Z").is_ok());
        assert!(parse("9999-12-31T23:59:59.999999Z").is_ok());
        assert_eq!(parse("9999-12-31T23:00:00-05:00"), Err(RANGE_PROBLEM));
        assert_eq!(parse("0001-01-01T00:30:00+01:00"), Err(RANGE_PROBLEM));
        assert_eq!(parse("0000-06-01T00:00:00Z"), Err(RANGE_PROBLEM));
        assert_eq!(parse("yesterday"), Err(FORMAT_PROBLEM));
    }
}
