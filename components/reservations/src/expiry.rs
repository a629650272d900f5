//! No-shows: a confirmed reservation with no session by its end plus a grace period.
//!
//! A booking schedules a timer for that moment, keyed by its id; cancelling it or starting
//! a session with it cancels the timer. When the timer is delivered, [`check`] records the
//! no-show and publishes `reservation.expired.v1`, once.
//!
//! Delivery comes some time after the grace ends, so until then the stored status still
//! says `confirmed`: reads, and the checks of writes, go by [`effective_status`] instead.

use chrono::{DateTime, TimeDelta, Utc};
use joule_sdk::db::{self, Row};
use joule_sdk::events::{self, Event, HandlerError};
use joule_sdk::timers;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::replica::retry;
use crate::settings::no_show_grace;

/// The timer's event type, as `spin.toml` grants it.
pub const CHECK: &str = "reservation.no-show-check.v1";

/// The timer's data.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Check {
    reservation_id: Uuid,
}

/// A confirmed booking ending at or before this is a no-show at `now`. Subtracting from
/// `now` cannot overflow, as adding to a booking stored before bookings were bounded (one
/// ending in the year 9999) could.
pub fn cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - no_show_grace()
}

/// The status a stored one means at `now`.
pub fn effective_status(status: &str, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> &str {
    if status == "confirmed" && ends_at <= cutoff(now) { "no_show" } else { status }
}

/// A stored booking's effective status at `now`, and its end, from its `status` and `ends_at`.
pub fn effective(row: Row<'_>, now: DateTime<Utc>) -> Result<(String, DateTime<Utc>), db::Error> {
    let (status, ends_at): (String, _) = (row.get("status")?, row.get("ends_at")?);
    Ok((effective_status(&status, ends_at, now).to_string(), ends_at))
}

/// Schedules the check of a new booking.
pub fn schedule(id: Uuid, ends_at: DateTime<Utc>) -> Result<(), timers::Error> {
    ends_at.checked_add_signed(no_show_grace()).map_or(Ok(()), |due| schedule_at(id, due))
}

/// Schedules the check for `due`, replacing the booking's pending one.
fn schedule_at(id: Uuid, due: DateTime<Utc>) -> Result<(), timers::Error> {
    timers::schedule(due, CHECK, &Check { reservation_id: id }, Some(&id.to_string())).map(drop)
}

/// Cancels the check of a booking that can no longer become a no-show.
pub fn cancel(id: Uuid) -> Result<(), timers::Error> {
    timers::cancel(&id.to_string()).map(drop)
}

/// What a delivered check does.
#[derive(Debug, PartialEq)]
enum Outcome {
    NoShow,
    /// The grace was raised after the timer was scheduled: check again then.
    Later(DateTime<Utc>),
    /// The booking is gone, or was cancelled or fulfilled, or never expires.
    Nothing,
}

/// `stored` is the booking's status and end, none when it is gone.
fn outcome(stored: Option<(&str, DateTime<Utc>)>, grace: TimeDelta, now: DateTime<Utc>) -> Outcome {
    match stored {
        Some(("confirmed", ends_at)) if ends_at <= now - grace => Outcome::NoShow,
        Some(("confirmed", ends_at)) => ends_at.checked_add_signed(grace).map_or(Outcome::Nothing, Outcome::Later),
        _ => Outcome::Nothing,
    }
}

/// Handles a delivered check; malformed data is a permanent error.
pub fn check(event: &Event) -> Result<(), HandlerError> {
    let Check { reservation_id: id } = event.data_as()?;
    let now = Utc::now();
    let rows = db::query("SELECT status, ends_at FROM reservations WHERE id = $1", &[&id]).map_err(retry)?;
    let stored = rows.first().map(|row| Ok::<_, db::Error>((row.get::<String>("status")?, row.get("ends_at")?)));
    let stored = stored.transpose().map_err(retry)?;
    match outcome(stored.as_ref().map(|(status, ends_at)| (status.as_str(), *ends_at)), no_show_grace(), now) {
        Outcome::NoShow => record(id, now),
        Outcome::Later(due) => schedule_at(id, due).map_err(retry),
        Outcome::Nothing => Ok(()),
    }
}

/// Records the no-show and publishes it, unless a session or a cancellation came first.
fn record(id: Uuid, now: DateTime<Utc>) -> Result<(), HandlerError> {
    let expired = db::query(
        "UPDATE reservations SET status = 'no_show', updated_at = $2
         WHERE id = $1 AND status = 'confirmed'
         RETURNING id, station_id, connector_id, driver_id, starts_at, ends_at",
        &[&id, &now],
    )
    .map_err(retry)?;
    let Some(row) = expired.first() else { return Ok(()) };
    events::publish("reservation.expired.v1", &expired_data(row).map_err(retry)?).map(drop).map_err(retry)
}

fn expired_data(row: Row<'_>) -> Result<Value, db::Error> {
    Ok(json!({
        "reservationId": row.get::<Uuid>("id")?,
        "stationId": row.get::<Uuid>("station_id")?,
        "connectorId": row.get::<String>("connector_id")?,
        "driverId": row.get::<String>("driver_id")?,
        "startsAt": row.get::<DateTime<Utc>>("starts_at")?,
        "endsAt": row.get::<DateTime<Utc>>("ends_at")?,
        "status": "no_show",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_confirmed_booking_past_its_grace_is_a_no_show() {
        let grace = TimeDelta::minutes(15);
        let ends_at = at("2026-11-23T10:00:00Z");
        assert_eq!(outcome(Some(("confirmed", ends_at)), grace, at("2026-11-23T10:15:00Z")), Outcome::NoShow);
        assert_eq!(outcome(Some(("confirmed", ends_at)), grace, at("2026-11-24T00:00:00Z")), Outcome::NoShow);
    }

    #[test]
    fn a_raised_grace_checks_again_at_its_new_end() {
        let grace = TimeDelta::minutes(30);
        let due = outcome(Some(("confirmed", at("2026-11-23T10:00:00Z"))), grace, at("2026-11-23T10:15:00Z"));
        assert_eq!(due, Outcome::Later(at("2026-11-23T10:30:00Z")));
    }

    #[test]
    fn a_booking_that_is_gone_or_no_longer_confirmed_is_left_alone() {
        let (grace, now) = (TimeDelta::minutes(15), at("2026-11-24T00:00:00Z"));
        let ends_at = at("2026-11-23T10:00:00Z");
        assert_eq!(outcome(None, grace, now), Outcome::Nothing);
        for status in ["cancelled", "fulfilled", "no_show"] {
            assert_eq!(outcome(Some((status, ends_at)), grace, now), Outcome::Nothing, "{status}");
        }
        let endless = DateTime::<Utc>::MAX_UTC;
        assert_eq!(outcome(Some(("confirmed", endless)), grace, now), Outcome::Nothing);
    }

    #[test]
    fn the_check_carries_the_reservation_id() {
        let id = Uuid::nil();
        let data = serde_json::to_value(Check { reservation_id: id }).unwrap();
        assert_eq!(data, json!({ "reservationId": "00000000-0000-0000-0000-000000000000" }));
    }
}
