//! Between the `joule:platform` pricing types and this crate's model, for rule components.

use chrono::{DateTime, Utc};
use joule_sdk::pricing::{Error, PriceBreakdown, PriceLine, QuoteInput};
use rust_decimal::Decimal;

use crate::{Breakdown, ChargingPeriod, PricingError, Session, Tariff, price};

fn timestamp(field: &str, text: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::InvalidSession(format!("{field} {text:?} is not an RFC 3339 timestamp")))
}

/// The tariff (JSON, in the EV API's camelCase) and the session of a quote.
pub fn read_input(input: &QuoteInput) -> Result<(Tariff, Session), Error> {
    let tariff: Tariff =
        serde_json::from_str(&input.tariff).map_err(|e| Error::InvalidTariff(format!("not an OCPI tariff: {e}")))?;
    let usage = &input.session;
    let time_zone = usage
        .time_zone
        .parse()
        .map_err(|_| Error::InvalidSession(format!("{:?} is not an IANA time zone", usage.time_zone)))?;
    let periods = usage
        .periods
        .iter()
        .map(|p| {
            Ok(ChargingPeriod {
                starts_at: timestamp("a period's startsAt", &p.starts_at)?,
                ends_at: timestamp("a period's endsAt", &p.ends_at)?,
                energy_wh: p.energy_wh,
            })
        })
        .collect::<Result<_, Error>>()?;
    let session = Session {
        started_at: timestamp("startedAt", &usage.started_at)?,
        charging_ended_at: timestamp("chargingEndedAt", &usage.charging_ended_at)?,
        unplugged_at: timestamp("unpluggedAt", &usage.unplugged_at)?,
        time_zone,
        periods,
    };
    Ok((tariff, session))
}

/// An amount with the four decimals lines keep.
pub fn amount(value: Decimal) -> String {
    joule_sdk::api::fixed(value, crate::LINE_DECIMALS)
}

pub fn to_wit(breakdown: &Breakdown) -> PriceBreakdown {
    PriceBreakdown {
        currency: breakdown.currency.clone(),
        lines: breakdown
            .lines
            .iter()
            .map(|line| PriceLine {
                dimension: line.dimension.clone(),
                volume: line.volume.normalize().to_string(),
                amount_excl_vat: amount(line.amount_excl_vat),
                vat_percent: line.vat_percent.map(|v| v.normalize().to_string()),
                amount_incl_vat: line.amount_incl_vat.map(amount),
            })
            .collect(),
        total_excl_vat: amount(breakdown.total_excl_vat),
        total_incl_vat: breakdown.total_incl_vat.map(amount),
    }
}

/// Prices a quote with the OCPI 2.2.1 rules.
pub fn quote(input: &QuoteInput) -> Result<Breakdown, Error> {
    let (tariff, session) = read_input(input)?;
    price(&tariff, &session).map_err(|e| match e {
        PricingError::InvalidTariff(why) => Error::InvalidTariff(why),
        PricingError::InvalidSession(why) => Error::InvalidSession(why),
    })
}
