//! Pricing the segments: for each dimension the first element whose restrictions hold,
//! step sizes once per session, VAT per component, then minimum and maximum price.
//!
//! Every sum and product is checked ([`crate::exact`]): a tariff and session too large to
//! price exactly are refused, never a panic.

use chrono::{DateTime, Datelike as _, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::PricingError;
use crate::exact::{add, div, mul, sub, sum, sum_optional};
use crate::model::{Dimension, PriceComponent, Restrictions, Tariff};
use crate::segments::{Segment, split};
use crate::session::Session;

/// Line amounts keep this many decimals.
pub const LINE_DECIMALS: u32 = 4;

type Result<T> = std::result::Result<T, PricingError>;

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

/// Where a segment starts in the station's local time, worked out once per segment.
struct Local {
    time: NaiveTime,
    date: NaiveDate,
    weekday: Weekday,
}

impl Local {
    fn of(at: DateTime<Utc>, tz: Tz) -> Self {
        let local = at.with_timezone(&tz);
        Self { time: local.time(), date: local.date_naive(), weekday: local.weekday() }
    }
}

/// `kwh` in Wh; `None` when too large to compute, and so beyond any session's energy.
fn wh(kwh: Decimal) -> Option<Decimal> {
    kwh.checked_mul(Decimal::from(1000))
}

/// Whether every restriction holds at the start of `segment`.
fn holds(restrictions: Option<&Restrictions>, segment: &Segment, local: &Local) -> bool {
    let Some(r) = restrictions else { return true };
    let time = local.time;
    let in_window = match (r.start_time, r.end_time) {
        (Some(start), Some(end)) if start <= end => start <= time && time < end,
        (Some(start), Some(end)) => time >= start || time < end,
        (Some(start), None) => time >= start,
        (None, Some(end)) => time < end,
        (None, None) => true,
    };
    let at_least = |bound: Option<Decimal>, value: Decimal| bound.is_none_or(|b| value >= b);
    let below = |bound: Option<Decimal>, value: Decimal| bound.is_none_or(|b| value < b);
    let energy = segment.energy_before_wh;
    in_window
        && r.start_date.is_none_or(|d| local.date >= d)
        && r.end_date.is_none_or(|d| local.date < d)
        && r.min_kwh.is_none_or(|k| wh(k).is_some_and(|b| energy >= b))
        && r.max_kwh.is_none_or(|k| wh(k).is_none_or(|b| energy < b))
        && at_least(r.min_duration.map(Decimal::from), segment.elapsed_before)
        && below(r.max_duration.map(Decimal::from), segment.elapsed_before)
        && at_least(r.min_power, segment.power_kw)
        && below(r.max_power, segment.power_kw)
        && (r.day_of_week.is_empty() || r.day_of_week.contains(&local.weekday))
}

/// For each dimension, the component of the first element that prices it and whose
/// restrictions hold. Each element's restrictions are read once per segment, not once per
/// dimension, which keeps a long session with a large tariff within the rule's time.
struct Matched<'t>([Option<&'t PriceComponent>; 4]);

impl<'t> Matched<'t> {
    fn find(tariff: &'t Tariff, segment: &Segment, tz: Tz) -> Self {
        let local = Local::of(segment.start, tz);
        let mut found = [None; 4];
        for element in &tariff.elements {
            if found.iter().all(Option::is_some) {
                break;
            }
            if !holds(element.restrictions.as_ref(), segment, &local) {
                continue;
            }
            for (slot, dimension) in found.iter_mut().zip(Dimension::ALL) {
                if slot.is_none() {
                    *slot = element.price_components.iter().find(|c| c.dimension == dimension);
                }
            }
        }
        Self(found)
    }

    fn get(&self, dimension: Dimension) -> Option<&'t PriceComponent> {
        self.0[dimension as usize]
    }
}

/// Volume billed at one component: Wh, seconds, or 1 for a flat fee.
struct Use<'t> {
    component: &'t PriceComponent,
    volume: Decimal,
}

fn add_use<'t>(uses: &mut Vec<Use<'t>>, component: &'t PriceComponent, volume: Decimal) -> Result<()> {
    match uses.last_mut() {
        Some(last) if std::ptr::eq(last.component, component) => last.volume = add(last.volume, volume)?,
        _ => uses.push(Use { component, volume }),
    }
    Ok(())
}

/// Rounds the total volume up to the last component's step size, adding the difference there.
fn apply_step(uses: &mut [Use<'_>]) -> Result<()> {
    let Some(last) = uses.last() else { return Ok(()) };
    let step = Decimal::from(last.component.step_size.max(1));
    let total = sum(uses.iter().map(|u| u.volume))?;
    let rounded = mul(div(total, step)?.ceil(), step)?;
    if let Some(last) = uses.last_mut() {
        last.volume = add(last.volume, sub(rounded, total)?)?;
    }
    Ok(())
}

fn line(dimension: Dimension, uses: &[Use<'_>]) -> Result<Line> {
    let unit = match dimension {
        Dimension::Energy => Decimal::from(1000),
        Dimension::Time | Dimension::ParkingTime => Decimal::from(3600),
        Dimension::Flat => Decimal::ONE,
    };
    let hundred = Decimal::from(100);
    let (mut excl, mut incl) = (Decimal::ZERO, Some(Decimal::ZERO));
    for u in uses {
        let amount = div(mul(u.volume, u.component.price)?, unit)?;
        excl = add(excl, amount)?;
        incl = match (incl, u.component.vat) {
            (Some(total), Some(vat)) => Some(add(total, div(mul(amount, add(hundred, vat)?)?, hundred)?)?),
            _ => None,
        };
    }
    let first_vat = uses.first().and_then(|u| u.component.vat);
    let same_vat = uses.iter().all(|u| u.component.vat == first_vat);
    Ok(Line {
        dimension: dimension.as_str().into(),
        volume: round(div(sum(uses.iter().map(|u| u.volume))?, unit)?),
        amount_excl_vat: round(excl),
        vat_percent: if same_vat { first_vat } else { None },
        amount_incl_vat: incl.map(round),
    })
}

/// Prices a session with an OCPI 2.2.1 tariff.
pub fn price(tariff: &Tariff, session: &Session) -> Result<Breakdown> {
    session.check()?;
    tariff.check()?;
    if tariff.start_date_time.is_some_and(|from| session.started_at < from)
        || tariff.end_date_time.is_some_and(|until| session.started_at >= until)
    {
        return Err(PricingError::InvalidTariff("the tariff is not valid when the session started".into()));
    }
    let tz = session.time_zone;
    let segments = split(tariff, session)?;
    let (mut energy, mut time, mut parking, mut flat) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, segment) in segments.iter().enumerate() {
        let matched = Matched::find(tariff, segment, tz);
        if i == 0
            && let Some(component) = matched.get(Dimension::Flat)
        {
            add_use(&mut flat, component, Decimal::ONE)?;
        }
        if segment.charging {
            if segment.energy_wh > Decimal::ZERO
                && let Some(component) = matched.get(Dimension::Energy)
            {
                add_use(&mut energy, component, segment.energy_wh)?;
            }
            if let Some(component) = matched.get(Dimension::Time) {
                add_use(&mut time, component, segment.seconds)?;
            }
        } else if let Some(component) = matched.get(Dimension::ParkingTime) {
            add_use(&mut parking, component, segment.seconds)?;
        }
    }
    apply_step(&mut energy)?;
    // TIME and PARKING_TIME are stepped together: when parking is billed, only it rounds up.
    if parking.is_empty() {
        apply_step(&mut time)?;
    } else {
        apply_step(&mut parking)?;
    }
    let mut lines = [
        (Dimension::Flat, &flat),
        (Dimension::Energy, &energy),
        (Dimension::Time, &time),
        (Dimension::ParkingTime, &parking),
    ]
    .into_iter()
    .filter(|(_, uses)| !uses.is_empty())
    .map(|(dimension, uses)| line(dimension, uses))
    .collect::<Result<Vec<Line>>>()?;
    bound_total(tariff, &mut lines)?;
    let total_excl_vat = sum(lines.iter().map(|l| l.amount_excl_vat))?;
    let total_incl_vat = sum_optional(lines.iter().map(|l| l.amount_incl_vat))?;
    Ok(Breakdown { currency: tariff.currency.clone(), lines, total_excl_vat, total_incl_vat })
}

/// Brings the total within the tariff's minimum and maximum price with an adjustment line.
///
/// OCPI 2.2.1 read literally: a bound clamps each figure it gives. A bound with only
/// `exclVat` clamps the total excluding VAT and leaves the total including VAT as priced
/// (an adjustment of 0 including VAT), so that total is never lost when every line has VAT.
fn bound_total(tariff: &Tariff, lines: &mut Vec<Line>) -> Result<()> {
    let excl = sum(lines.iter().map(|l| l.amount_excl_vat))?;
    let incl = sum_optional(lines.iter().map(|l| l.amount_incl_vat))?;
    let bound = match (&tariff.min_price, &tariff.max_price) {
        (Some(min), _) if excl < min.excl_vat => Some(("MIN_PRICE", min)),
        (_, Some(max)) if excl > max.excl_vat => Some(("MAX_PRICE", max)),
        _ => None,
    };
    if let Some((dimension, bound)) = bound {
        let incl_difference = match (bound.incl_vat, incl) {
            (Some(bound_incl), Some(incl)) => Some(round(sub(bound_incl, incl)?)),
            (None, Some(_)) => Some(Decimal::ZERO),
            (_, None) => None,
        };
        lines.push(Line {
            dimension: dimension.into(),
            volume: Decimal::ONE,
            amount_excl_vat: round(sub(bound.excl_vat, excl)?),
            vat_percent: None,
            amount_incl_vat: incl_difference,
        });
    }
    Ok(())
}
