//! No-shows: a confirmed reservation with no session by its end plus a grace period.
//!
//! Reads show the status as it is now; writes and event deliveries also record it and
//! publish `reservation.expired.v1`, once per reservation.

use chrono::{DateTime, Utc};
use joule_sdk::{db, events};
use serde_json::json;

use crate::settings::no_show_grace;

/// The status a stored one means at `now`. Checked: a booking stored before bookings were
/// bounded may end in the year 9999.
pub fn effective_status(status: &str, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> &str {
    let past_grace = ends_at.checked_add_signed(no_show_grace()).is_some_and(|end| end < now);
    if status == "confirmed" && past_grace { "no_show" } else { status }
}

/// Records every reservation that became a no-show, and publishes each.
pub fn sweep(now: DateTime<Utc>) -> Result<(), db::Error> {
    let cutoff = now - no_show_grace();
    let expired = db::query(
        "UPDATE reservations SET status = 'no_show', updated_at = $2
         WHERE status = 'confirmed' AND ends_at < $1
         RETURNING id, station_id, connector_id, driver_id, starts_at, ends_at",
        &[&cutoff, &now],
    )?;
    for row in expired.iter() {
        let data = json!({
            "reservationId": row.get::<uuid::Uuid>("id")?,
            "stationId": row.get::<uuid::Uuid>("station_id")?,
            "connectorId": row.get::<String>("connector_id")?,
            "driverId": row.get::<String>("driver_id")?,
            "startsAt": row.get::<DateTime<Utc>>("starts_at")?,
            "endsAt": row.get::<DateTime<Utc>>("ends_at")?,
            "status": "no_show",
        });
        events::publish("reservation.expired.v1", &data)
            .map_err(|e| db::Error::Unavailable(format!("publishing reservation.expired.v1 failed: {e:?}")))?;
    }
    Ok(())
}
