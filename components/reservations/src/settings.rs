//! The component's variables (`[component.reservations.variables]` in `spin.toml`), each with
//! its default and a sane range: a missing or malformed one takes the default, and an
//! absurd one is clamped, so no setting can make a time computation overflow and trap.

use chrono::TimeDelta;
use joule_sdk::variables::whole;

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
