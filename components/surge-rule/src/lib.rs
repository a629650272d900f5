//! `surge`: a developer's own pricing rule. It prices like OCPI, then multiplies every
//! amount when the session starts in a peak window the tariff's rule options name:
//!
//! ```json
//! "ruleOptions": { "multiplier": "1.5", "startTime": "17:00", "endTime": "20:00", "dayOfWeek": ["MONDAY"] }
//! ```

use chrono::{Datelike as _, NaiveTime};
use joule_sdk::pricing::{Error, PriceBreakdown, QuoteInput};
use ocpi_tariff::joule::{quote, read_input, to_wit};
use ocpi_tariff::{Breakdown, Session};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Surge {
    multiplier: Decimal,
    start_time: String,
    end_time: String,
    #[serde(default)]
    day_of_week: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithSurge {
    rule_options: Option<Surge>,
}

impl Surge {
    /// Whether the session starts in the peak window, in the station's local time.
    fn applies(&self, session: &Session) -> Result<bool, Error> {
        let time = |text: &str| {
            NaiveTime::parse_from_str(text, "%H:%M").map_err(|_| Error::InvalidTariff(format!("surge time {text:?} is not HH:MM")))
        };
        let (start, end) = (time(&self.start_time)?, time(&self.end_time)?);
        let local = session.started_at.with_timezone(&session.time_zone);
        let at = local.time();
        let in_window = if start <= end { start <= at && at < end } else { at >= start || at < end };
        let day = local.weekday().to_string().to_uppercase();
        let on_day = self.day_of_week.is_empty() || self.day_of_week.iter().any(|d| d.to_uppercase().starts_with(&day));
        Ok(in_window && on_day)
    }
}

/// The largest multiplier: a surge is a premium, not a different currency.
const MAX_MULTIPLIER: u32 = 100;

fn too_large() -> Error {
    Error::InvalidTariff("the surged amounts are too large to compute exactly".into())
}

/// Multiplies every amount, checked: an amount too large to compute is refused, not a panic.
fn scale(breakdown: &mut Breakdown, multiplier: Decimal) -> Result<(), Error> {
    let scaled = |amount: Decimal| {
        amount.checked_mul(multiplier).map(|a| a.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)).ok_or_else(too_large)
    };
    for line in &mut breakdown.lines {
        line.amount_excl_vat = scaled(line.amount_excl_vat)?;
        line.amount_incl_vat = line.amount_incl_vat.map(scaled).transpose()?;
    }
    let sum = |amounts: Vec<Decimal>| amounts.into_iter().try_fold(Decimal::ZERO, Decimal::checked_add).ok_or_else(too_large);
    breakdown.total_excl_vat = sum(breakdown.lines.iter().map(|l| l.amount_excl_vat).collect())?;
    // None when a line has no VAT, as the engine gives it.
    let incl: Option<Vec<Decimal>> = breakdown.lines.iter().map(|l| l.amount_incl_vat).collect();
    breakdown.total_incl_vat = incl.map(sum).transpose()?;
    Ok(())
}

/// Prices a quote: OCPI, with the surge multiplier when it applies.
pub fn price(input: &QuoteInput) -> Result<PriceBreakdown, Error> {
    let mut breakdown = quote(input)?;
    let surge: WithSurge = serde_json::from_str(&input.tariff).map_err(|e| Error::InvalidTariff(e.to_string()))?;
    if let Some(surge) = surge.rule_options {
        if surge.multiplier <= Decimal::ZERO || surge.multiplier > Decimal::from(MAX_MULTIPLIER) {
            return Err(Error::InvalidTariff(format!("the surge multiplier must be above 0 and at most {MAX_MULTIPLIER}")));
        }
        let (_, session) = read_input(input)?;
        if surge.applies(&session)? {
            scale(&mut breakdown, surge.multiplier)?;
        }
    }
    Ok(to_wit(&breakdown))
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macro generates")]
mod export {
    use joule_sdk::pricing::{Error, PriceBreakdown, QuoteInput, Rule};

    struct SurgeRule;

    impl Rule for SurgeRule {
        fn price(input: QuoteInput) -> Result<PriceBreakdown, Error> {
            super::price(&input)
        }
    }

    joule_sdk::export_pricing_rule!(SurgeRule);
}

#[cfg(test)]
mod tests {
    use joule_sdk::pricing::{ChargingPeriod, SessionUsage};

    use super::*;

    fn input(started: &str) -> QuoteInput {
        input_with(started, "0.30", "1.5")
    }

    fn input_with(started: &str, price: &str, multiplier: &str) -> QuoteInput {
        let tariff = serde_json::json!({
            "currency": "EUR",
            "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": price, "vat": "20" }] }],
            "ruleOptions": { "multiplier": multiplier, "startTime": "17:00", "endTime": "20:00" }
        });
        let end = started.replace("T17:", "T18:").replace("T10:", "T11:");
        QuoteInput {
            tariff: tariff.to_string(),
            session: SessionUsage {
                started_at: started.into(),
                charging_ended_at: end.clone(),
                unplugged_at: end.clone(),
                time_zone: "UTC".into(),
                periods: vec![ChargingPeriod { starts_at: started.into(), ends_at: end, energy_wh: 10_000 }],
            },
        }
    }

    #[test]
    fn multiplies_in_the_peak_window_only() {
        let peak = price(&input("2025-01-06T17:00:00Z")).unwrap();
        assert_eq!(peak.total_excl_vat, "4.5000");
        assert_eq!(peak.total_incl_vat.as_deref(), Some("5.4000"));
        let off_peak = price(&input("2025-01-06T10:00:00Z")).unwrap();
        assert_eq!(off_peak.total_excl_vat, "3.0000");
    }

    #[test]
    fn amounts_too_large_to_surge_are_refused_not_a_panic() {
        let peak = "2025-01-06T17:00:00Z";
        let huge = price(&input_with(peak, "790000000000000000000000000", "99"));
        assert!(matches!(&huge, Err(Error::InvalidTariff(why)) if why.contains("too large")), "{huge:?}");
        for multiplier in ["0", "-1", "101", "79000000000000000000000000000"] {
            assert!(matches!(price(&input_with(peak, "0.30", multiplier)), Err(Error::InvalidTariff(_))), "{multiplier}");
        }
    }
}
