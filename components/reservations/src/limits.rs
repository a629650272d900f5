//! What a booking and a session may hold, checked with the field to name in the 422.
//!
//! A session's bounds are the pricing engine's (`ocpi_tariff::limits`), so billing can price
//! every session stopped here: at most 31 days from start to unplugging, at most 1000 charging
//! periods (999 meter readings, then the stop), and at most 1 GWh between two readings.

use chrono::{DateTime, TimeDelta, Utc};
use joule_sdk::api::Problems;
use ocpi_tariff::limits::{MAX_PERIOD_WH, MAX_PERIODS, MAX_SESSION_DAYS};

/// A meter register, in Wh: at most 2^53 - 1, the largest whole number every JSON client
/// reads exactly, and far beyond any meter's lifetime.
pub const MAX_REGISTER_WH: u64 = (1 << 53) - 1;

/// Meter readings a session may hold; with the stop they make at most [`MAX_PERIODS`] periods.
pub const MAX_READINGS: i64 = MAX_PERIODS as i64 - 1;

/// A booking `[starts, ends)`: `ends` after `starts`, at most `longest` after it, and
/// `starts` at most `lead` ahead of `now`.
pub fn booking(starts: DateTime<Utc>, ends: DateTime<Utc>, now: DateTime<Utc>, longest: TimeDelta, lead: TimeDelta, problems: &mut Problems) {
    if ends <= starts {
        problems.add("endsAt", "must be after startsAt");
    } else if ends.signed_duration_since(starts) > longest {
        problems.add("endsAt", format!("must be at most {} minutes after startsAt", longest.num_minutes()));
    }
    if starts.signed_duration_since(now) > lead {
        problems.add("startsAt", format!("must be at most {} days ahead", lead.num_days()));
    }
}

/// A time of a session (a reading, the stop, unplugging): within its longest length.
pub fn within_session(field: &str, at: DateTime<Utc>, started: DateTime<Utc>, problems: &mut Problems) {
    if at.signed_duration_since(started) > TimeDelta::days(MAX_SESSION_DAYS) {
        problems.add(field, format!("must be within {MAX_SESSION_DAYS} days of the session's start"));
    }
}

/// A register reading: at most [`MAX_PERIOD_WH`] above the last, so every period can be priced.
pub fn energy_step(field: &str, energy: i64, last: i64, problems: &mut Problems) {
    if energy.saturating_sub(last) > MAX_PERIOD_WH as i64 {
        problems.add(field, format!("must not exceed the last reading, {last} Wh, by more than {MAX_PERIOD_WH} Wh"));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn fields(problems: Problems) -> Value {
        problems.finish().err().map(|e| e.details.unwrap()).unwrap_or_default()
    }

    #[test]
    fn bookings_are_bounded_in_length_and_lead() {
        let now = at("2026-11-23T10:00:00Z");
        let (day, quarter) = (TimeDelta::days(1), TimeDelta::days(90));
        let mut problems = Problems::new();
        booking(at("2026-11-24T10:00:00Z"), at("2026-11-25T10:00:00Z"), now, day, quarter, &mut problems);
        assert!(problems.is_empty(), "a day, a day ahead");
        let mut problems = Problems::new();
        booking(now, at("9999-12-31T00:00:00Z"), now, day, quarter, &mut problems);
        assert_eq!(fields(problems)["endsAt"], "must be at most 1440 minutes after startsAt");
        let mut problems = Problems::new();
        booking(at("9999-12-30T00:00:00Z"), at("9999-12-30T01:00:00Z"), now, day, quarter, &mut problems);
        assert_eq!(fields(problems)["startsAt"], "must be at most 90 days ahead");
        let mut problems = Problems::new();
        booking(now, now, now, day, quarter, &mut problems);
        assert_eq!(fields(problems)["endsAt"], "must be after startsAt");
    }

    #[test]
    fn sessions_are_bounded_in_length_and_energy() {
        let started = at("2026-11-23T10:00:00Z");
        let mut problems = Problems::new();
        within_session("stoppedAt", at("2026-12-24T10:00:00Z"), started, &mut problems);
        energy_step("meterStopWh", 1_000_000_100, 100, &mut problems);
        assert!(problems.is_empty(), "31 days and 1 GWh exactly");
        let mut problems = Problems::new();
        within_session("stoppedAt", at("9999-12-31T00:00:00Z"), started, &mut problems);
        energy_step("meterStopWh", MAX_REGISTER_WH as i64, 0, &mut problems);
        let found = fields(problems);
        assert_eq!(found["stoppedAt"], "must be within 31 days of the session's start");
        assert!(found["meterStopWh"].is_string());
    }
}
