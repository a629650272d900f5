//! The component's variables (`[component.reservations.variables]` in `spin.toml`), each with
//! its default and a sane range: a missing or malformed one takes the default, and an
//! absurd one is clamped, so no setting can make a time computation overflow and trap.

use chrono::TimeDelta;
use joule_sdk::variables;

/// Reads a whole-number variable: `default` when missing or malformed, else within `min..=max`.
fn whole(name: &str, default: i64, min: i64, max: i64) -> i64 {
    parse(variables::get(name).ok().as_deref(), default, min, max)
}

fn parse(value: Option<&str>, default: i64, min: i64, max: i64) -> i64 {
    value.and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(default).clamp(min, max)
}

/// Minutes after a booking's end before it is a no-show: `no_show_grace_minutes`,
/// default 15, at most a day.
pub fn no_show_grace() -> TimeDelta {
    TimeDelta::minutes(whole("no_show_grace_minutes", 15, 0, 1440))
}

/// The longest booking: `max_booking_minutes`, default 1440 (a day, for an overnight or
/// depot booking), at most 31 days.
pub fn max_booking() -> TimeDelta {
    TimeDelta::minutes(whole("max_booking_minutes", 1440, 1, 31 * 1440))
}

/// How far ahead a booking may start: `max_booking_lead_days`, default 90, at most 10 years.
pub fn max_booking_lead() -> TimeDelta {
    TimeDelta::days(whole("max_booking_lead_days", 90, 0, 3650))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_malformed_or_absurd_setting_cannot_trap() {
        assert_eq!(parse(None, 15, 0, 1440), 15);
        assert_eq!(parse(Some("soon"), 15, 0, 1440), 15);
        assert_eq!(parse(Some(" 30 "), 15, 0, 1440), 30);
        assert_eq!(parse(Some("-5"), 15, 0, 1440), 0);
        assert_eq!(parse(Some("9223372036854775807"), 15, 0, 1440), 1440);
        assert_eq!(parse(Some("99999999999999999999"), 15, 0, 1440), 15, "past i64 is malformed");
    }
}
