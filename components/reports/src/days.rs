//! Local days: where a station's day begins and ends in UTC, and how an interval of time
//! splits among the days it spans. Pure, so the roll-up and the live reports cut time the
//! same way.
//!
//! A local day runs from its first instant to the next day's first instant, so it lasts 23
//! or 25 hours when the clocks change. Its first instant is local midnight, or, where the
//! clocks skip midnight, the first local time that exists after it.

use std::ops::RangeInclusive;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone as _, Utc};
use chrono_tz::Tz;

/// The zone named, or UTC for a name the time zone database does not know: a figure is
/// better on a UTC day than lost.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// The local day `at` falls on in `zone`.
pub fn day_of(zone: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// The first instant of `day` in `zone`.
pub fn start_of(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    // Ambiguous midnight (clocks turned back over it): the day starts at the earlier one.
    if let Some(start) = zone.from_local_datetime(&midnight).earliest() {
        return start.with_timezone(&Utc);
    }
    // Skipped midnight: the day starts where the clocks jumped to, the first minute that exists.
    (1..=24 * 60)
        .find_map(|minute| zone.from_local_datetime(&(midnight + TimeDelta::minutes(minute))).earliest())
        .map_or_else(|| midnight.and_utc(), |start| start.with_timezone(&Utc))
}

/// How long `day` lasts in `zone`: 24 hours, or 23 or 25 on the days the clocks change.
pub fn length_of(zone: Tz, day: NaiveDate) -> TimeDelta {
    start_of(zone, next(day)) - start_of(zone, day)
}

/// The part of an interval that falls on one local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub day: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Piece {
    pub fn length(&self) -> TimeDelta {
        self.to - self.from
    }
}

/// `[from, to)` cut at each local midnight of `zone`, one piece per day it spans; nothing
/// when it is empty. A piece that would be empty (an interval ending at midnight) is left out.
pub fn pieces(zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Piece> {
    let mut pieces = Vec::new();
    if to <= from {
        return pieces;
    }
    let mut day = day_of(zone, from);
    let mut start = from;
    loop {
        let end = start_of(zone, next(day));
        let piece = Piece { day, from: start, to: to.min(end) };
        if piece.to > piece.from {
            pieces.push(piece);
        }
        if to <= end {
            return pieces;
        }
        (day, start) = (next(day), end);
    }
}

/// The UTC dates whose local days, in any zone on Earth (UTC-12 to UTC+14), may hold part
/// of `[from, to]`: a change there is marked on all of them, whatever station it belongs to.
pub fn dates_around(from: DateTime<Utc>, to: DateTime<Utc>) -> RangeInclusive<NaiveDate> {
    let (first, last) = (from.min(to).date_naive(), from.max(to).date_naive());
    previous(first)..=next(last)
}

/// The UTC instants within which the local days `days` of every zone on Earth lie.
pub fn instants_around(days: &RangeInclusive<NaiveDate>) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |day: NaiveDate| day.and_time(chrono::NaiveTime::MIN).and_utc();
    (midnight(previous(*days.start())), midnight(next(next(*days.end()))))
}

/// Each day of `range`, in order.
pub fn each(range: &RangeInclusive<NaiveDate>) -> impl Iterator<Item = NaiveDate> + use<> {
    let last = *range.end();
    range.start().iter_days().take_while(move |day| *day <= last)
}

/// `days` as runs of consecutive days, in order: facts are loaded once per run.
pub fn runs(days: impl IntoIterator<Item = NaiveDate>) -> Vec<RangeInclusive<NaiveDate>> {
    let mut days: Vec<NaiveDate> = days.into_iter().collect();
    days.sort();
    days.dedup();
    let mut runs: Vec<RangeInclusive<NaiveDate>> = Vec::new();
    for day in days {
        match runs.last_mut() {
            Some(run) if next(*run.end()) == day => *run = *run.start()..=day,
            _ => runs.push(day..=day),
        }
    }
    runs
}

/// The last day that has ended in every one of `zones` at `now`.
pub fn last_finished_day(zones: impl IntoIterator<Item = Tz>, now: DateTime<Utc>) -> NaiveDate {
    let today = zones.into_iter().map(|zone| day_of(zone, now)).fold(now.date_naive(), NaiveDate::min);
    previous(today)
}

pub fn next(day: NaiveDate) -> NaiveDate {
    day.succ_opt().unwrap_or(NaiveDate::MAX)
}

pub fn previous(day: NaiveDate) -> NaiveDate {
    day.pred_opt().unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn hours(piece: &Piece) -> f64 {
        piece.length().num_seconds() as f64 / 3600.0
    }

    #[test]
    fn an_interval_within_one_day_is_one_piece() {
        let tokyo = zone("Asia/Tokyo");
        let pieces = pieces(tokyo, at("2026-03-02T16:30:00+09:00"), at("2026-03-02T18:02:00+09:00"));
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].day, date("2026-03-02"));
        assert_eq!(pieces[0].length(), TimeDelta::minutes(92));
    }

    #[test]
    fn an_interval_crossing_midnight_is_split_between_the_days() {
        let tokyo = zone("Asia/Tokyo");
        // 22:30 to 01:15 local: the UTC date is the same, the local days are not.
        let pieces = pieces(tokyo, at("2026-03-02T13:30:00Z"), at("2026-03-02T16:15:00Z"));
        assert_eq!(
            pieces.iter().map(|p| (p.day, hours(p))).collect::<Vec<_>>(),
            [(date("2026-03-02"), 1.5), (date("2026-03-03"), 1.25)]
        );
        assert_eq!(pieces[0].to, at("2026-03-03T00:00:00+09:00"));
        assert_eq!(pieces[1].from, pieces[0].to);
    }

    #[test]
    fn an_interval_ending_at_midnight_has_no_empty_piece_after_it() {
        let utc = zone("UTC");
        let pieces = pieces(utc, at("2026-03-02T22:00:00Z"), at("2026-03-03T00:00:00Z"));
        assert_eq!(pieces.len(), 1);
        assert!(super::pieces(utc, at("2026-03-02T22:00:00Z"), at("2026-03-02T22:00:00Z")).is_empty());
        assert!(super::pieces(utc, at("2026-03-02T22:00:00Z"), at("2026-03-02T21:00:00Z")).is_empty());
    }

    #[test]
    fn a_multi_day_interval_has_whole_days_in_between() {
        let pieces = pieces(zone("Europe/Berlin"), at("2026-03-02T20:00:00+01:00"), at("2026-03-05T02:00:00+01:00"));
        assert_eq!(pieces.iter().map(hours).collect::<Vec<_>>(), [4.0, 24.0, 24.0, 2.0]);
    }

    #[test]
    fn days_the_clocks_change_last_23_or_25_hours() {
        let berlin = zone("Europe/Berlin");
        assert_eq!(length_of(berlin, date("2026-03-29")), TimeDelta::hours(23));
        assert_eq!(length_of(berlin, date("2026-10-25")), TimeDelta::hours(25));
        assert_eq!(length_of(berlin, date("2026-06-01")), TimeDelta::hours(24));
        let new_york = zone("America/New_York");
        assert_eq!(length_of(new_york, date("2026-03-08")), TimeDelta::hours(23));
        assert_eq!(length_of(new_york, date("2026-11-01")), TimeDelta::hours(25));
        // Lord Howe Island turns its clocks by half an hour.
        assert_eq!(length_of(zone("Australia/Lord_Howe"), date("2026-04-05")), TimeDelta::minutes(24 * 60 + 30));
    }

    #[test]
    fn an_interval_over_the_spring_change_counts_elapsed_time() {
        // 01:00 to 04:00 local on the night Berlin skips 02:00 to 03:00: two hours elapse.
        let berlin = zone("Europe/Berlin");
        let pieces = pieces(berlin, at("2026-03-29T01:00:00+01:00"), at("2026-03-29T04:00:00+02:00"));
        assert_eq!(pieces.iter().map(|p| (p.day, hours(p))).collect::<Vec<_>>(), [(date("2026-03-29"), 2.0)]);
        // A whole autumn-change day is 25 hours of one day.
        let autumn = super::pieces(berlin, start_of(berlin, date("2026-10-25")), start_of(berlin, date("2026-10-26")));
        assert_eq!(autumn.iter().map(|p| (p.day, hours(p))).collect::<Vec<_>>(), [(date("2026-10-25"), 25.0)]);
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_when_the_clocks_jump() {
        // Havana moves from 00:00 to 01:00 on the second Sunday of March.
        let havana = zone("America/Havana");
        let day = date("2026-03-08");
        assert_eq!(start_of(havana, day), at("2026-03-08T01:00:00-04:00"));
        assert_eq!(length_of(havana, day), TimeDelta::hours(23));
        assert_eq!(day_of(havana, start_of(havana, day)), day);
        assert_eq!(day_of(havana, start_of(havana, day) - TimeDelta::seconds(1)), date("2026-03-07"));
    }

    #[test]
    fn an_unknown_zone_is_utc() {
        assert_eq!(zone("Mars/Olympus_Mons"), Tz::UTC);
        assert_eq!(start_of(zone("nowhere"), date("2026-03-02")), at("2026-03-02T00:00:00Z"));
    }

    #[test]
    fn dates_around_cover_every_zone() {
        let range = dates_around(at("2026-03-02T05:00:00Z"), at("2026-03-03T20:00:00Z"));
        assert_eq!(range, date("2026-03-01")..=date("2026-03-04"));
        // Kiribati (UTC+14) and Baker Island (UTC-12) days of those instants are inside.
        for name in ["Pacific/Kiritimati", "Etc/GMT+12"] {
            assert!(range.contains(&day_of(zone(name), at("2026-03-02T05:00:00Z"))));
            assert!(range.contains(&day_of(zone(name), at("2026-03-03T20:00:00Z"))));
        }
        let (from, to) = instants_around(&(date("2026-03-02")..=date("2026-03-02")));
        for name in ["Pacific/Kiritimati", "Etc/GMT+12"] {
            let zone = zone(name);
            assert!(from <= start_of(zone, date("2026-03-02")) && start_of(zone, date("2026-03-03")) <= to);
        }
    }

    #[test]
    fn runs_group_consecutive_days() {
        let days = ["2026-03-05", "2026-03-02", "2026-03-03", "2026-03-03", "2026-03-09"].map(date);
        assert_eq!(
            runs(days),
            [
                date("2026-03-02")..=date("2026-03-03"),
                date("2026-03-05")..=date("2026-03-05"),
                date("2026-03-09")..=date("2026-03-09")
            ]
        );
        assert!(runs([]).is_empty());
    }

    #[test]
    fn a_day_is_finished_once_it_ended_in_every_zone() {
        let now = at("2026-03-03T00:05:00Z");
        assert_eq!(last_finished_day([zone("Asia/Tokyo")], now), date("2026-03-02"));
        assert_eq!(last_finished_day([zone("Asia/Tokyo"), zone("America/New_York")], now), date("2026-03-01"));
        assert_eq!(last_finished_day([], now), date("2026-03-02"));
    }
}
