//! `charging.session.started.v1` and `charging.session.completed.v1`: a session's start,
//! and its completion, which wins over the start whichever arrives first.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use joule_sdk::db::{self, Error};
use joule_sdk::events::{Event, HandlerError};
use serde::Deserialize;
use uuid::Uuid;

use super::{malformed, retry};
use crate::model::{Completion, Period, Session};
use crate::{dirty, store};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToldPeriod {
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    energy_wh: i64,
}

/// What both events carry; the completion adds its ends, energy and periods.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Told {
    session_id: Uuid,
    station_id: Uuid,
    connector_id: String,
    time_zone: String,
    started_at: DateTime<Utc>,
    /// Where charging ended: parking follows until unplugging.
    stopped_at: Option<DateTime<Utc>>,
    unplugged_at: Option<DateTime<Utc>>,
    energy_wh: Option<i64>,
    periods: Option<Vec<ToldPeriod>>,
}

impl Told {
    fn session(self, completed: bool) -> Option<Session> {
        let completion = if completed {
            let charging_ended_at = self.stopped_at?;
            let periods: Vec<Period> = self
                .periods
                .unwrap_or_default()
                .into_iter()
                .map(|p| Period { starts_at: p.starts_at, ends_at: p.ends_at, energy_wh: p.energy_wh })
                .collect();
            Some(Completion {
                charging_ended_at,
                unplugged_at: self.unplugged_at.unwrap_or(charging_ended_at).max(charging_ended_at),
                energy_wh: self.energy_wh.unwrap_or_else(|| periods.iter().map(|p| p.energy_wh).sum()),
                periods,
            })
        } else {
            None
        };
        Some(Session {
            id: self.session_id,
            station_id: self.station_id,
            connector_id: self.connector_id,
            time_zone: self.time_zone,
            started_at: self.started_at,
            completion,
        })
    }
}

/// `charging.session.started.v1`: kept unless the session is known already, completed or not.
pub fn started(event: &Event) -> Result<(), HandlerError> {
    let session = event.data_as::<Told>()?.session(false).expect("a start needs no end");
    db::execute(
        "INSERT INTO sessions (id, station_id, connector_id, time_zone, started_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO NOTHING",
        &[&session.id, &session.station_id, &session.connector_id, &session.time_zone, &session.started_at, &session.ends_at()],
    )
    .map_err(retry)?;
    mark(&session).map_err(retry)
}

/// `charging.session.completed.v1`: the whole session, over whatever was known of it.
pub fn completed(event: &Event) -> Result<(), HandlerError> {
    let session =
        event.data_as::<Told>()?.session(true).ok_or_else(|| malformed(event, "a completed session needs stoppedAt"))?;
    let done = session.completion.as_ref().expect("completed");
    let periods = store::stored_periods(&done.periods);
    db::execute(
        "INSERT INTO sessions (id, station_id, connector_id, time_zone, started_at, charging_ended_at, unplugged_at,
                               energy_wh, periods, ends_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET station_id = excluded.station_id, connector_id = excluded.connector_id,
             time_zone = excluded.time_zone, started_at = excluded.started_at,
             charging_ended_at = excluded.charging_ended_at, unplugged_at = excluded.unplugged_at,
             energy_wh = excluded.energy_wh, periods = excluded.periods, ends_at = excluded.ends_at",
        &[
            &session.id,
            &session.station_id,
            &session.connector_id,
            &session.time_zone,
            &session.started_at,
            &done.charging_ended_at,
            &done.unplugged_at,
            &done.energy_wh,
            &periods,
            &session.ends_at(),
        ],
    )
    .map_err(retry)?;
    mark(&session).map_err(retry)
}

/// The session's own days, and those of its invoices and payments, whose station it tells.
fn mark(session: &Session) -> Result<(), Error> {
    let mut days = BTreeSet::new();
    dirty::around(&mut days, session.started_at, session.ends_at());
    super::days_of_invoices(session.id, &mut days)?;
    dirty::mark(&days)
}
