//! The figures of a set of local days, computed from the facts. One function makes both
//! what the roll-up stores and what a report computes live, so an answer never depends on
//! whether the roll-up ran. Pure: the facts come in, the figures go out, exact to the
//! microsecond and, for energy and money, in decimals.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::days::{self, Piece};
use crate::model::{Facts, Session};

/// One connector's use on one local day.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub day: NaiveDate,
    pub station_id: Uuid,
    pub connector_id: String,
    /// Sessions that started that day.
    pub sessions: i64,
    /// Time from sessions' starts to the end of their charging, in microseconds.
    pub charging_us: i64,
    /// Time from sessions' starts to their unplugging, in microseconds.
    pub occupied_us: i64,
    /// The length of the local day, in microseconds.
    pub day_us: i64,
}

/// The energy one station delivered on one local day.
#[derive(Debug, Clone, PartialEq)]
pub struct Energy {
    pub day: NaiveDate,
    pub station_id: Uuid,
    pub energy_wh: Decimal,
}

/// What was invoiced and paid on one day, at one station (none for what has no station),
/// in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Revenue {
    pub day: NaiveDate,
    pub station_id: Option<Uuid>,
    pub currency: String,
    pub invoices: i64,
    pub invoiced_excl_vat: Decimal,
    pub invoiced_incl_vat: Decimal,
    pub paid: Decimal,
}

/// The figures of some days, each list sorted by day, station and then connector or currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub usage: Vec<Usage>,
    pub energy: Vec<Energy>,
    pub revenue: Vec<Revenue>,
}

/// The figures of `days` (each station's local days) from `facts`. Facts reaching beyond
/// `days` count only for their part within them.
pub fn compute(facts: &Facts, days: &BTreeSet<NaiveDate>) -> Figures {
    Figures { usage: usage(facts, days), energy: energy(facts, days), revenue: revenue(facts, days) }
}

type Spans = Vec<(DateTime<Utc>, DateTime<Utc>)>;

#[derive(Default)]
struct UsageSums {
    sessions: i64,
    charging: Spans,
    occupied: Spans,
    day_us: i64,
}

fn micros(delta: TimeDelta) -> i64 {
    delta.num_microseconds().unwrap_or(i64::MAX)
}

/// How much time the spans cover together: overlapping sessions on one connector (which
/// a charge point's faults can make) occupy it once.
fn covered(mut spans: Spans) -> TimeDelta {
    spans.sort();
    let mut total = TimeDelta::zero();
    let mut current: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (from, to) in spans {
        current = match current {
            Some((start, end)) if from <= end => Some((start, end.max(to))),
            Some((start, end)) => {
                total += end - start;
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    total + current.map_or(TimeDelta::zero(), |(start, end)| end - start)
}

type UsageKey = (NaiveDate, Uuid, String);

/// The sums of one connector's day, made on first use.
fn usage_entry<'a>(
    sums: &'a mut BTreeMap<UsageKey, UsageSums>,
    session: &Session,
    zone: Tz,
    day: NaiveDate,
) -> &'a mut UsageSums {
    let sums = sums.entry((day, session.station_id, session.connector_id.clone())).or_default();
    sums.day_us = micros(days::length_of(zone, day));
    sums
}

fn usage(facts: &Facts, days: &BTreeSet<NaiveDate>) -> Vec<Usage> {
    let mut sums: BTreeMap<UsageKey, UsageSums> = BTreeMap::new();
    for session in facts.sessions.values() {
        let zone = facts.place_of_session(session).zone;
        let first_day = days::day_of(zone, session.started_at);
        if days.contains(&first_day) {
            usage_entry(&mut sums, session, zone, first_day).sessions += 1;
        }
        let Some(done) = &session.completion else { continue };
        let unplugged = done.unplugged_at.max(done.charging_ended_at);
        for piece in days::pieces(zone, session.started_at, done.charging_ended_at).into_iter().filter(|p| days.contains(&p.day))
        {
            usage_entry(&mut sums, session, zone, piece.day).charging.push((piece.from, piece.to));
        }
        for piece in days::pieces(zone, session.started_at, unplugged).into_iter().filter(|p| days.contains(&p.day)) {
            usage_entry(&mut sums, session, zone, piece.day).occupied.push((piece.from, piece.to));
        }
    }
    sums.into_iter()
        .map(|((day, station_id, connector_id), sums)| Usage {
            day,
            station_id,
            connector_id,
            sessions: sums.sessions,
            charging_us: micros(covered(sums.charging)),
            occupied_us: micros(covered(sums.occupied)),
            day_us: sums.day_us,
        })
        .collect()
}

/// `energy_wh` spread over `[from, to)` in proportion to the time each local day holds of
/// it; energy counted in an instant belongs to that instant's day.
fn spread(zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>, energy_wh: i64) -> Vec<(NaiveDate, Decimal)> {
    let energy = Decimal::from(energy_wh);
    if to <= from {
        return vec![(days::day_of(zone, from), energy)];
    }
    let whole = Decimal::from(micros(to - from));
    let share = |piece: &Piece| energy * Decimal::from(micros(piece.length())) / whole;
    days::pieces(zone, from, to).iter().map(|piece| (piece.day, share(piece))).collect()
}

/// The energy of a completed session by local day: each period's over its time, or without
/// periods the session's over its charging time.
fn energy_of(facts: &Facts, session: &Session) -> Vec<(NaiveDate, Decimal)> {
    let Some(done) = &session.completion else { return Vec::new() };
    let zone = facts.place_of_session(session).zone;
    if done.periods.is_empty() {
        return spread(zone, session.started_at, done.charging_ended_at, done.energy_wh);
    }
    done.periods.iter().flat_map(|period| spread(zone, period.starts_at, period.ends_at, period.energy_wh)).collect()
}

fn energy(facts: &Facts, days: &BTreeSet<NaiveDate>) -> Vec<Energy> {
    let mut sums: BTreeMap<(NaiveDate, Uuid), Decimal> = BTreeMap::new();
    for session in facts.sessions.values() {
        for (day, wh) in energy_of(facts, session).into_iter().filter(|(day, _)| days.contains(day)) {
            *sums.entry((day, session.station_id)).or_default() += wh;
        }
    }
    sums.into_iter().map(|((day, station_id), energy_wh)| Energy { day, station_id, energy_wh }).collect()
}

/// Sorts what has no station after every station.
type RevenueKey = (NaiveDate, bool, Option<Uuid>, String);

/// The sums of one day, station and currency, made on first use.
fn revenue_entry<'a>(
    sums: &'a mut BTreeMap<RevenueKey, Revenue>,
    day: NaiveDate,
    station_id: Option<Uuid>,
    currency: &str,
) -> &'a mut Revenue {
    let key = (day, station_id.is_none(), station_id, currency.to_string());
    sums.entry(key).or_insert_with(|| Revenue {
        day,
        station_id,
        currency: currency.to_string(),
        invoices: 0,
        invoiced_excl_vat: Decimal::ZERO,
        invoiced_incl_vat: Decimal::ZERO,
        paid: Decimal::ZERO,
    })
}

fn revenue(facts: &Facts, days: &BTreeSet<NaiveDate>) -> Vec<Revenue> {
    let mut sums: BTreeMap<RevenueKey, Revenue> = BTreeMap::new();
    for invoice in facts.invoices.values() {
        let place = facts.place_of_invoice(invoice);
        let day = days::day_of(place.zone, invoice.created_at);
        if days.contains(&day) {
            let sums = revenue_entry(&mut sums, day, place.station_id, &invoice.currency);
            sums.invoices += 1;
            sums.invoiced_excl_vat += invoice.total_excl_vat;
            sums.invoiced_incl_vat += invoice.total_incl_vat.unwrap_or(invoice.total_excl_vat);
        }
    }
    for payment in facts.payments.values() {
        let place = facts.place_of_payment(payment);
        let day = days::day_of(place.zone, payment.paid_at);
        if days.contains(&day) {
            revenue_entry(&mut sums, day, place.station_id, &payment.currency).paid += payment.amount;
        }
    }
    sums.into_values().collect()
}

#[cfg(test)]
#[path = "figures_tests.rs"]
mod tests;
