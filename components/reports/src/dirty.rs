//! Dirty days: days whose figures a fact may have changed since they were rolled up.
//!
//! A day is marked for every station at once, so marking never depends on which station a
//! fact turns out to belong to (an invoice may learn its station only when its session's
//! event arrives). Each mark moves the day's `version` on; the roll-up clears a day only at
//! the version it read, so a fact that arrives while a roll-up runs keeps its day dirty.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use chrono::{DateTime, NaiveDate, Utc};
use joule_sdk::db::{self, Error};

use crate::days;

/// Marks each day in `days`.
pub fn mark(days: &BTreeSet<NaiveDate>) -> Result<(), Error> {
    for day in days {
        db::execute(
            "INSERT INTO dirty_days (day, version) VALUES ($1, 1)
             ON CONFLICT (day) DO UPDATE SET version = dirty_days.version + 1",
            &[day],
        )?;
    }
    Ok(())
}

/// The days a fact spanning `[from, to]` may count on, at a station in any zone.
pub fn around(days: &mut BTreeSet<NaiveDate>, from: DateTime<Utc>, to: DateTime<Utc>) {
    days.extend(days::each(&days::dates_around(from, to)));
}

/// The dirty days among `range`.
pub fn within(range: &RangeInclusive<NaiveDate>) -> Result<BTreeSet<NaiveDate>, Error> {
    let rows = db::query("SELECT day FROM dirty_days WHERE day >= $1 AND day <= $2", &[range.start(), range.end()])?;
    rows.iter().map(|row| row.get("day")).collect()
}

/// Up to `limit` dirty days up to `through`, oldest first, with the version each was read at.
pub fn through(through: NaiveDate, limit: i64) -> Result<Vec<(NaiveDate, i64)>, Error> {
    let rows = db::query("SELECT day, version FROM dirty_days WHERE day <= $1 ORDER BY day LIMIT $2", &[&through, &limit])?;
    rows.iter().map(|row| Ok((row.get("day")?, row.get("version")?))).collect()
}

/// How many dirty days up to `through` remain.
pub fn count_through(through: NaiveDate) -> Result<i64, Error> {
    let rows = db::query("SELECT count(*) AS n FROM dirty_days WHERE day <= $1", &[&through])?;
    rows.first().map_or(Ok(0), |row| row.get("n"))
}

/// Clears the day if no fact marked it again since it was read at `version`.
pub fn clear(day: NaiveDate, version: i64) -> Result<(), Error> {
    db::execute("DELETE FROM dirty_days WHERE day = $1 AND version = $2", &[&day, &version]).map(drop)
}
