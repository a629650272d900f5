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

fn scale(breakdown: &mut Breakdown, multiplier: Decimal) {
    let scaled = |amount: Decimal| (amount * multiplier).round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
    for line in &mut breakdown.lines {
        line.amount_excl_vat = scaled(line.amount_excl_vat);
        line.amount_incl_vat = line.amount_incl_vat.map(scaled);
    }
    breakdown.total_excl_vat = breakdown.lines.iter().map(|l| l.amount_excl_vat).sum();
    breakdown.total_incl_vat = breakdown.lines.iter().map(|l| l.amount_incl_vat).sum();
}

/// Prices a quote: OCPI, with the surge multiplier when it applies.
pub fn price(input: &QuoteInput) -> Result<PriceBreakdown, Error> {
    let mut breakdown = quote(input)?;
    let surge: WithSurge = serde_json::from_str(&input.tariff).map_err(|e| Error::InvalidTariff(e.to_string()))?;
    if let Some(surge) = surge.rule_options {
        if surge.multiplier <= Decimal::ZERO {
            return Err(Error::InvalidTariff("the surge multiplier must be positive".into()));
        }
        let (_, session) = read_input(input)?;
        if surge.applies(&session)? {
            scale(&mut breakdown, surge.multiplier);
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
        let tariff = serde_json::json!({
            "currency": "EUR",
            "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": "0.30", "vat": "20" }] }],
            "ruleOptions": { "multiplier": "1.5", "startTime": "17:00", "endTime": "20:00" }
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
}
