//! Splitting a session into segments within which no restriction can change: at clock
//! times, at kWh and duration thresholds, at meter readings, and where charging ends.
//!
//! The session is checked first ([`Session::check`]), so it lasts at most
//! [`MAX_SESSION_DAYS`](crate::limits::MAX_SESSION_DAYS) and the day-by-day work is bounded.

use std::collections::BTreeSet;
use std::ops::Bound::Excluded;

use chrono::{DateTime, Duration, NaiveTime, TimeZone as _, Utc};
use rust_decimal::Decimal;

use crate::PricingError;
use crate::exact::{add, div, mul, overflow, sub};
use crate::model::Tariff;
use crate::session::Session;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    pub start: DateTime<Utc>,
    pub seconds: Decimal,
    pub energy_wh: Decimal,
    pub charging: bool,
    /// Constant over the segment.
    pub power_kw: Decimal,
    /// Energy charged before the segment.
    pub energy_before_wh: Decimal,
    /// Session seconds before the segment.
    pub elapsed_before: Decimal,
}

type Result<T> = std::result::Result<T, PricingError>;

const NANOS: i64 = 1_000_000_000;

fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Decimal> {
    let nanos = to.signed_duration_since(from).num_nanoseconds().ok_or_else(overflow)?;
    div(Decimal::from(nanos), Decimal::from(NANOS))
}

fn plus_seconds(at: DateTime<Utc>, seconds: Decimal) -> Result<DateTime<Utc>> {
    let nanos = mul(seconds, Decimal::from(NANOS))?.round();
    let nanos = i64::try_from(nanos).map_err(|_| overflow())?;
    at.checked_add_signed(Duration::nanoseconds(nanos)).ok_or_else(overflow)
}

/// Where the power is constant: meter periods, the gaps between them, and parking.
struct Piece {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    energy_wh: Decimal,
    charging: bool,
}

fn pieces(session: &Session) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut at = session.started_at;
    for period in &session.periods {
        if period.starts_at > at {
            pieces.push(Piece { start: at, end: period.starts_at, energy_wh: Decimal::ZERO, charging: true });
        }
        pieces.push(Piece {
            start: period.starts_at,
            end: period.ends_at,
            energy_wh: Decimal::from(period.energy_wh),
            charging: true,
        });
        at = period.ends_at;
    }
    if session.charging_ended_at > at {
        pieces.push(Piece { start: at, end: session.charging_ended_at, energy_wh: Decimal::ZERO, charging: true });
    }
    if session.unplugged_at > session.charging_ended_at {
        pieces.push(Piece {
            start: session.charging_ended_at,
            end: session.unplugged_at,
            energy_wh: Decimal::ZERO,
            charging: false,
        });
    }
    pieces
}

/// Instants where a time, date, day or duration restriction may start or stop holding.
fn clock_boundaries(tariff: &Tariff, session: &Session) -> BTreeSet<DateTime<Utc>> {
    let tz = session.time_zone;
    let mut times: BTreeSet<NaiveTime> = BTreeSet::from([NaiveTime::MIN]);
    let mut durations = BTreeSet::new();
    for restrictions in tariff.elements.iter().filter_map(|e| e.restrictions.as_ref()) {
        times.extend(restrictions.start_time);
        times.extend(restrictions.end_time);
        durations.extend(restrictions.min_duration);
        durations.extend(restrictions.max_duration);
    }
    let first = session.started_at.with_timezone(&tz).date_naive();
    let last = session.unplugged_at.with_timezone(&tz).date_naive();
    let mut boundaries = BTreeSet::new();
    for day in first.iter_days().take_while(|d| *d <= last) {
        for time in &times {
            // A time skipped by a DST change has no instant; an ambiguous one takes the first.
            if let Some(at) = tz.from_local_datetime(&day.and_time(*time)).earliest() {
                boundaries.insert(at.with_timezone(&Utc));
            }
        }
    }
    // A duration past the end of time is past the session's end too: no boundary.
    boundaries.extend(
        durations.into_iter().filter_map(|s| session.started_at.checked_add_signed(Duration::seconds(i64::from(s)))),
    );
    boundaries.retain(|at| *at > session.started_at && *at < session.unplugged_at);
    boundaries
}

/// The kWh thresholds in Wh; one too large to compute is beyond any session's energy.
fn kwh_thresholds(tariff: &Tariff) -> BTreeSet<Decimal> {
    let thousand = Decimal::from(1000);
    tariff
        .elements
        .iter()
        .filter_map(|e| e.restrictions.as_ref())
        .flat_map(|r| [r.min_kwh, r.max_kwh])
        .flatten()
        .filter_map(|kwh| kwh.checked_mul(thousand))
        .filter(|wh| *wh > Decimal::ZERO)
        .collect()
}

pub(crate) fn split(tariff: &Tariff, session: &Session) -> Result<Vec<Segment>> {
    let clock = clock_boundaries(tariff, session);
    let thresholds = kwh_thresholds(tariff);
    let mut segments = Vec::new();
    let mut energy_before = Decimal::ZERO;
    let mut elapsed_before = Decimal::ZERO;
    for piece in pieces(session) {
        let piece_seconds = seconds_between(piece.start, piece.end)?;
        let power_kw = if piece_seconds.is_zero() {
            Decimal::ZERO
        } else {
            div(div(mul(piece.energy_wh, Decimal::from(3600))?, piece_seconds)?, Decimal::from(1000))?
        };
        let mut cuts: Vec<DateTime<Utc>> = clock.range(piece.start..piece.end).copied().filter(|at| *at > piece.start).collect();
        cuts.push(piece.end);
        let mut start = piece.start;
        for cut in cuts {
            let seconds = seconds_between(start, cut)?;
            let energy =
                if piece_seconds.is_zero() { Decimal::ZERO } else { div(mul(piece.energy_wh, seconds)?, piece_seconds)? };
            // Within a clock interval, split where the energy so far crosses a threshold.
            let (mut at, mut left_seconds, mut left_energy) = (start, seconds, energy);
            let energy_after = add(energy_before, energy)?;
            let crossed: Vec<Decimal> = if energy_after > energy_before {
                thresholds.range((Excluded(energy_before), Excluded(energy_after))).copied().collect()
            } else {
                Vec::new()
            };
            for threshold in crossed {
                let part = sub(threshold, energy_before)?;
                let part_seconds = div(mul(left_seconds, part)?, left_energy)?;
                segments.push(Segment {
                    start: at,
                    seconds: part_seconds,
                    energy_wh: part,
                    charging: piece.charging,
                    power_kw,
                    energy_before_wh: energy_before,
                    elapsed_before,
                });
                energy_before = add(energy_before, part)?;
                elapsed_before = add(elapsed_before, part_seconds)?;
                at = plus_seconds(at, part_seconds)?;
                left_seconds = sub(left_seconds, part_seconds)?;
                left_energy = sub(left_energy, part)?;
            }
            if left_seconds > Decimal::ZERO {
                segments.push(Segment {
                    start: at,
                    seconds: left_seconds,
                    energy_wh: left_energy,
                    charging: piece.charging,
                    power_kw,
                    energy_before_wh: energy_before,
                    elapsed_before,
                });
                energy_before = add(energy_before, left_energy)?;
                elapsed_before = add(elapsed_before, left_seconds)?;
            }
            start = cut;
        }
    }
    Ok(segments)
}
