//! Missed heartbeats: each time a charge point is heard, a timer keyed by its id is set for
//! three heartbeat intervals later, replacing the one before. If it falls due, nothing was
//! heard since: the charge point is offline from then, and its station says so
//! (`ocpp.offlineSince`, `station.updated.v1`, and `charger.offline.v1` in the same unit of
//! work) until the charge point speaks again.

use chrono::{DateTime, TimeDelta, Utc};
use joule_sdk::events::{self, Event, Handler, HandlerError};
use joule_sdk::timers;
use serde::{Deserialize, Serialize};

use crate::{charge_points, presence, store};

/// The timer's event type, as `spin.toml` grants it.
pub const MISSED: &str = "charge-point.heartbeat-missed.v1";

/// Heartbeat intervals without a word before a charge point counts as offline.
const MISSED_INTERVALS: i32 = 3;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Missed {
    charge_point_id: String,
    last_heard: DateTime<Utc>,
    due: DateTime<Utc>,
}

/// The charge point was heard at `at`: its check moves to three intervals later.
pub fn heard(charge_point_id: &str, at: DateTime<Utc>, interval_seconds: i64) -> Result<(), timers::Error> {
    let due = at + TimeDelta::seconds(interval_seconds) * MISSED_INTERVALS;
    let check = Missed { charge_point_id: charge_point_id.to_string(), last_heard: at, due };
    timers::schedule(due, MISSED, &check, Some(&format!("heartbeat:{charge_point_id}"))).map(drop)
}

/// The event handler of the stations' own timers, and of their calls' outcomes.
pub struct Heartbeats;

impl Handler for Heartbeats {
    fn handle(event: Event) -> Result<(), HandlerError> {
        if event.event_type == joule_sdk::ocpp::CALL_RESULT_EVENT {
            crate::calls::result(&event);
            return Ok(());
        }
        if event.event_type != MISSED {
            return Ok(());
        }
        let missed: Missed = event.data_as()?;
        let retry = |e: &dyn std::fmt::Debug| HandlerError::Retryable(format!("{e:?}"));
        let Some(station_id) =
            charge_points::went_silent(&missed.charge_point_id, missed.last_heard, missed.due).map_err(|e| retry(&e))?
        else {
            // Heard since, or already offline, or no station has it any more.
            return Ok(());
        };
        let Some(station) = store::find(station_id).map_err(|e| retry(&e))? else { return Ok(()) };
        events::publish("station.updated.v1", &station).map_err(|e| retry(&e))?;
        let offline = presence::offline(station_id, &missed.charge_point_id, missed.last_heard, missed.due);
        events::publish(presence::OFFLINE, &offline).map(drop).map_err(|e| retry(&e))
    }
}
