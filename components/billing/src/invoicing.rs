//! The event handler: keeps tariff versions, and invoices each completed session with the
//! tariff and the pricing rule version recorded at its start.

use chrono::Utc;
use joule_sdk::events::{self, Event, Handler, HandlerError};
use joule_sdk::pricing::{self, ChargingPeriod, Error as PricingError, PriceBreakdown, QuoteInput, SessionUsage};
use joule_sdk::db;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// Invoice totals are rounded half-up to the currency's two decimals.
const TOTAL_DECIMALS: u32 = 2;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Period {
    starts_at: String,
    ends_at: String,
    energy_wh: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompletedSession {
    session_id: Uuid,
    driver_id: String,
    tariff_id: Option<String>,
    tariff_version: Option<i64>,
    rule: Option<String>,
    rule_version: Option<u32>,
    time_zone: String,
    started_at: String,
    stopped_at: String,
    unplugged_at: String,
    periods: Vec<Period>,
}

fn retry(error: db::Error) -> HandlerError {
    HandlerError::Retryable(format!("{error:?}"))
}

pub fn total(amount: &str) -> Result<String, HandlerError> {
    let amount: Decimal = amount.parse().map_err(|_| HandlerError::Permanent(format!("{amount:?} is not an amount")))?;
    Ok(joule_sdk::api::fixed(amount, TOTAL_DECIMALS))
}

fn keep_tariff(data: &Value) -> Result<(), HandlerError> {
    let (Some(id), Some(version)) = (data["id"].as_str(), data["version"].as_i64()) else {
        return Err(HandlerError::Permanent("a tariff event without id or version".into()));
    };
    db::execute(
        "INSERT INTO tariffs (id, version, body) VALUES ($1, $2, $3) ON CONFLICT (id, version) DO NOTHING",
        &[&id, &version, data],
    )
    .map(drop)
    .map_err(retry)
}

/// The tariff as it stood at the session's start: the recorded version, else the newest known.
fn tariff(id: &str, version: Option<i64>) -> Result<Value, HandlerError> {
    let rows = match version {
        Some(version) => db::query("SELECT body FROM tariffs WHERE id = $1 AND version = $2", &[&id, &version]),
        None => db::query("SELECT body FROM tariffs WHERE id = $1 ORDER BY version DESC LIMIT 1", &[&id]),
    }
    .map_err(retry)?;
    let row = rows
        .first()
        .ok_or_else(|| HandlerError::Retryable(format!("tariff {id} version {version:?} has not arrived yet")))?;
    row.get("body").map_err(retry)
}

fn quote(session: &CompletedSession, tariff: &Value) -> Result<(PriceBreakdown, String, u32), HandlerError> {
    let rule = session.rule.clone().or_else(|| tariff["rule"].as_str().map(str::to_string)).unwrap_or("ocpi".into());
    let input = QuoteInput {
        tariff: tariff.to_string(),
        session: SessionUsage {
            started_at: session.started_at.clone(),
            charging_ended_at: session.stopped_at.clone(),
            unplugged_at: session.unplugged_at.clone(),
            time_zone: session.time_zone.clone(),
            periods: session
                .periods
                .iter()
                .map(|p| ChargingPeriod { starts_at: p.starts_at.clone(), ends_at: p.ends_at.clone(), energy_wh: p.energy_wh })
                .collect(),
        },
    };
    match pricing::quote(&rule, session.rule_version, &input) {
        Ok(quote) => Ok((quote.breakdown, rule, quote.rule_version)),
        Err(PricingError::InvalidTariff(why) | PricingError::InvalidSession(why)) => Err(HandlerError::Permanent(why)),
        Err(PricingError::RuleUnavailable(why) | PricingError::RuleFailed(why)) => Err(HandlerError::Retryable(why)),
    }
}

fn invoice(event: &Event) -> Result<(), HandlerError> {
    let session: CompletedSession = event.data_as()?;
    let Some(tariff_id) = session.tariff_id.clone() else {
        eprintln!("session {} had no tariff; nothing to invoice", session.session_id);
        return Ok(());
    };
    let existing = db::query("SELECT id FROM invoices WHERE session_id = $1", &[&session.session_id]).map_err(retry)?;
    if !existing.is_empty() {
        return Ok(());
    }
    let tariff = tariff(&tariff_id, session.tariff_version)?;
    let tariff_version = tariff["version"].as_i64().unwrap_or_default();
    let (breakdown, rule, rule_version) = quote(&session, &tariff)?;
    let lines: Vec<Value> = breakdown
        .lines
        .iter()
        .map(|l| json!({ "dimension": l.dimension, "volume": l.volume, "amountExclVat": l.amount_excl_vat,
                        "vatPercent": l.vat_percent, "amountInclVat": l.amount_incl_vat }))
        .collect();
    let total_excl_vat = total(&breakdown.total_excl_vat)?;
    let total_incl_vat = breakdown.total_incl_vat.as_deref().map(total).transpose()?;
    let (id, now) = (joule_sdk::ids::time_ordered(), Utc::now());
    db::execute(
        "INSERT INTO invoices (id, session_id, driver_id, currency, lines, total_excl_vat, total_incl_vat, status,
                               tariff_id, tariff_version, rule, rule_version, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11, $12)",
        &[
            &id,
            &session.session_id,
            &session.driver_id,
            &breakdown.currency,
            &Value::from(lines),
            &total_excl_vat,
            &total_incl_vat,
            &tariff_id,
            &tariff_version,
            &rule,
            &i64::from(rule_version),
            &now,
        ],
    )
    .map_err(retry)?;
    let created = crate::invoices::find(id).map_err(retry)?.expect("just inserted");
    let mut data = created.clone();
    data["invoiceId"] = created["id"].clone();
    events::publish("invoice.created.v1", &data).map(drop).map_err(|e| HandlerError::Retryable(format!("{e:?}")))
}

pub struct Invoicing;

impl Handler for Invoicing {
    fn handle(event: Event) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            "tariff.created.v1" | "tariff.updated.v1" => keep_tariff(&event.data_as()?),
            "charging.session.completed.v1" => invoice(&event),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_round_half_up_to_two_decimals() {
        assert_eq!(total("6.5650").unwrap(), "6.57");
        assert_eq!(total("7.8780").unwrap(), "7.88");
        assert_eq!(total("0.0050").unwrap(), "0.01");
        assert_eq!(total("0.0049").unwrap(), "0.00");
        assert_eq!(total("-30.0050").unwrap(), "-30.01");
        // The largest amounts a rule may return format too, where `{:.2}` would panic.
        assert_eq!(total("-79228162514264337593543950335").unwrap(), "-79228162514264337593543950335.00");
    }
}
