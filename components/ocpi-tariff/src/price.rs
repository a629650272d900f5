//! Pricing the segments: for each dimension the first element whose restrictions hold,
//! step sizes once per session, VAT per component, then minimum and maximum price.

use chrono::Datelike as _;
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::PricingError;
use crate::model::{Dimension, PriceComponent, Restrictions, Tariff};
use crate::segments::{Segment, split};
use crate::session::Session;

/// Line amounts keep this many decimals.
pub const LINE_DECIMALS: u32 = 4;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// A dimension, or MIN_PRICE / MAX_PRICE for an adjustment to the tariff's bounds.
    pub dimension: String,
    /// kWh for ENERGY, hours for TIME and PARKING_TIME, 1 for FLAT.
    pub volume: Decimal,
    pub amount_excl_vat: Decimal,
    /// None when no VAT applies, which differs from 0%.
    pub vat_percent: Option<Decimal>,
    pub amount_incl_vat: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    pub currency: String,
    pub lines: Vec<Line>,
    pub total_excl_vat: Decimal,
    /// None when a priced line has no VAT.
    pub total_incl_vat: Option<Decimal>,
}

fn round(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(LINE_DECIMALS, RoundingStrategy::MidpointAwayFromZero)
}

/// Whether every restriction holds at the start of `segment`.
fn holds(restrictions: Option<&Restrictions>, segment: &Segment, tz: Tz) -> bool {
    let Some(r) = restrictions else { return true };
    let local = segment.start.with_timezone(&tz);
    let (time, date) = (local.time(), local.date_naive());
    let in_window = match (r.start_time, r.end_time) {
        (Some(start), Some(end)) if start <= end => start <= time && time < end,
        (Some(start), Some(end)) => time >= start || time < end,
        (Some(start), None) => time >= start,
        (None, Some(end)) => time < end,
        (None, None) => true,
    };
    let thousand = Decimal::from(1000);
    let at_least = |bound: Option<Decimal>, value: Decimal| bound.is_none_or(|b| value >= b);
    let below = |bound: Option<Decimal>, value: Decimal| bound.is_none_or(|b| value < b);
    in_window
        && r.start_date.is_none_or(|d| date >= d)
        && r.end_date.is_none_or(|d| date < d)
        && at_least(r.min_kwh.map(|k| k * thousand), segment.energy_before_wh)
        && below(r.max_kwh.map(|k| k * thousand), segment.energy_before_wh)
        && at_least(r.min_duration.map(Decimal::from), segment.elapsed_before)
        && below(r.max_duration.map(Decimal::from), segment.elapsed_before)
        && at_least(r.min_power, segment.power_kw)
        && below(r.max_power, segment.power_kw)
        && (r.day_of_week.is_empty() || r.day_of_week.contains(&local.weekday()))
}

/// The component of the first element that prices `dimension` and whose restrictions hold.
fn first_match<'t>(tariff: &'t Tariff, dimension: Dimension, segment: &Segment, tz: Tz) -> Option<&'t PriceComponent> {
    tariff.elements.iter().filter(|e| holds(e.restrictions.as_ref(), segment, tz)).find_map(|e| {
        e.price_components.iter().find(|c| c.dimension == dimension)
    })
}

/// Volume billed at one component: Wh, seconds, or 1 for a flat fee.
struct Use<'t> {
    component: &'t PriceComponent,
    volume: Decimal,
}

fn add<'t>(uses: &mut Vec<Use<'t>>, component: &'t PriceComponent, volume: Decimal) {
    match uses.last_mut() {
        Some(last) if std::ptr::eq(last.component, component) => last.volume += volume,
        _ => uses.push(Use { component, volume }),
    }
}

/// Rounds the total volume up to the last component's step size, adding the difference there.
fn apply_step(uses: &mut [Use<'_>]) {
    let Some(last) = uses.last() else { return };
    let step = Decimal::from(last.component.step_size.max(1));
    let total: Decimal = uses.iter().map(|u| u.volume).sum();
    let rounded = (total / step).ceil() * step;
    if let Some(last) = uses.last_mut() {
        last.volume += rounded - total;
    }
}

fn line(dimension: Dimension, uses: &[Use<'_>]) -> Line {
    let unit = match dimension {
        Dimension::Energy => Decimal::from(1000),
        Dimension::Time | Dimension::ParkingTime => Decimal::from(3600),
        Dimension::Flat => Decimal::ONE,
    };
    let amounts: Vec<(Decimal, Option<Decimal>)> =
        uses.iter().map(|u| (u.volume * u.component.price / unit, u.component.vat)).collect();
    let excl: Decimal = amounts.iter().map(|(a, _)| *a).sum();
    let incl = amounts
        .iter()
        .map(|(a, vat)| vat.map(|v| *a * (Decimal::from(100) + v) / Decimal::from(100)))
        .sum::<Option<Decimal>>();
    let first_vat = uses.first().and_then(|u| u.component.vat);
    let same_vat = uses.iter().all(|u| u.component.vat == first_vat);
    Line {
        dimension: dimension.as_str().into(),
        volume: round(uses.iter().map(|u| u.volume).sum::<Decimal>() / unit),
        amount_excl_vat: round(excl),
        vat_percent: if same_vat { first_vat } else { None },
        amount_incl_vat: incl.map(round),
    }
}

/// Prices a session with an OCPI 2.2.1 tariff.
pub fn price(tariff: &Tariff, session: &Session) -> Result<Breakdown, PricingError> {
    session.check()?;
    if tariff.start_date_time.is_some_and(|from| session.started_at < from)
        || tariff.end_date_time.is_some_and(|until| session.started_at >= until)
    {
        return Err(PricingError::InvalidTariff("the tariff is not valid when the session started".into()));
    }
    let tz = session.time_zone;
    let segments = split(tariff, session);
    let (mut energy, mut time, mut parking, mut flat) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if let Some(first) = segments.first()
        && let Some(component) = first_match(tariff, Dimension::Flat, first, tz)
    {
        add(&mut flat, component, Decimal::ONE);
    }
    for segment in &segments {
        if segment.charging {
            if segment.energy_wh > Decimal::ZERO
                && let Some(component) = first_match(tariff, Dimension::Energy, segment, tz)
            {
                add(&mut energy, component, segment.energy_wh);
            }
            if let Some(component) = first_match(tariff, Dimension::Time, segment, tz) {
                add(&mut time, component, segment.seconds);
            }
        } else if let Some(component) = first_match(tariff, Dimension::ParkingTime, segment, tz) {
            add(&mut parking, component, segment.seconds);
        }
    }
    apply_step(&mut energy);
    // TIME and PARKING_TIME are stepped together: when parking is billed, only it rounds up.
    if parking.is_empty() {
        apply_step(&mut time);
    } else {
        apply_step(&mut parking);
    }
    let mut lines: Vec<Line> = [
        (Dimension::Flat, &flat),
        (Dimension::Energy, &energy),
        (Dimension::Time, &time),
        (Dimension::ParkingTime, &parking),
    ]
    .into_iter()
    .filter(|(_, uses)| !uses.is_empty())
    .map(|(dimension, uses)| line(dimension, uses))
    .collect();
    bound_total(tariff, &mut lines);
    let total_excl_vat = lines.iter().map(|l| l.amount_excl_vat).sum();
    let total_incl_vat = lines.iter().map(|l| l.amount_incl_vat).sum();
    Ok(Breakdown { currency: tariff.currency.clone(), lines, total_excl_vat, total_incl_vat })
}

/// Brings the total within the tariff's minimum and maximum price with an adjustment line.
fn bound_total(tariff: &Tariff, lines: &mut Vec<Line>) {
    let excl: Decimal = lines.iter().map(|l| l.amount_excl_vat).sum();
    let incl: Option<Decimal> = lines.iter().map(|l| l.amount_incl_vat).sum();
    let bound = match (&tariff.min_price, &tariff.max_price) {
        (Some(min), _) if excl < min.excl_vat => Some(("MIN_PRICE", min)),
        (_, Some(max)) if excl > max.excl_vat => Some(("MAX_PRICE", max)),
        _ => None,
    };
    if let Some((dimension, bound)) = bound {
        let incl_difference = match (bound.incl_vat, incl) {
            (Some(bound_incl), Some(incl)) => Some(round(bound_incl - incl)),
            _ => None,
        };
        lines.push(Line {
            dimension: dimension.into(),
            volume: Decimal::ONE,
            amount_excl_vat: round(bound.excl_vat - excl),
            vat_percent: None,
            amount_incl_vat: incl_difference,
        });
    }
}
