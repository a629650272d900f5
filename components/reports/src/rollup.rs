//! The daily roll-up, on the schedule's `reports.daily-rollup.v1`: each dirty day that has
//! ended in every zone in use gets its figures computed from the facts (by the function the
//! live reports use) and written whole into the daily tables, and stops being dirty unless a
//! fact marked it again meanwhile. Running it again, or late, writes the same rows.

use std::collections::BTreeSet;

use chrono::{TimeDelta, Utc};
use joule_sdk::db;
use joule_sdk::events::{Event, HandlerError};

use crate::facts::retry;
use crate::{daily, days, dirty, figures, store};

/// The schedule's event type (`[[trigger.schedule]]` in spin.toml).
pub const EVENT: &str = "reports.daily-rollup.v1";

/// How long the log of roll-ups is kept.
const LOG_DAYS: i64 = 400;

/// The most days one roll-up writes, to stay well within the invocation's time limit; the
/// rest stay dirty, correct in every report, and are rolled up the next night.
const MOST_DAYS: i64 = 62;

pub fn run(_tick: &Event) -> Result<(), HandlerError> {
    roll_up().map_err(retry)
}

fn roll_up() -> Result<(), db::Error> {
    // Now, not the tick's time: a tick delivered late may roll up more.
    let now = Utc::now();
    // A write first, as every invocation on the embedded backend should.
    db::execute("DELETE FROM rollups WHERE ran_at < $1", &[&(now - TimeDelta::days(LOG_DAYS))])?;
    let through = days::last_finished_day(store::zones_in_use()?, now);
    let dirty = dirty::through(through, MOST_DAYS)?;
    for run in days::runs(dirty.iter().map(|(day, _)| *day)) {
        let facts = store::facts_for(&run)?;
        let days: BTreeSet<_> = days::each(&run).collect();
        let figures = figures::compute(&facts, &days);
        for day in days {
            daily::replace(day, &figures)?;
        }
    }
    for (day, version) in &dirty {
        dirty::clear(*day, *version)?;
    }
    let left = dirty::count_through(through)?;
    db::execute(
        "INSERT INTO rollups (ran_at, through_day, days, left_dirty) VALUES ($1, $2, $3, $4)",
        &[&now, &through, &(dirty.len() as i64), &left],
    )?;
    Ok(())
}
