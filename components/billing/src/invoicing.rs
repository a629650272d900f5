//! The event handler: keeps tariff versions and plates, and invoices each completed session
//! with the tariff and the pricing rule version recorded at its start, and each parking
//! stay past its lot's free minutes (`parking.rs`).

use chrono::Utc;
use joule_sdk::db;
use joule_sdk::events::{self, Event, Handler, HandlerError};
use joule_sdk::pricing::{self, ChargingPeriod, Error as PricingError, PriceBreakdown, QuoteInput, SessionUsage};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{parking, tariffs, vehicles};

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

pub fn retry(error: db::Error) -> HandlerError {
    HandlerError::Retryable(format!("{error:?}"))
}

pub fn total(amount: &str) -> Result<String, HandlerError> {
    let amount: Decimal = amount.parse().map_err(|_| HandlerError::Permanent(format!("{amount:?} is not an amount")))?;
    Ok(joule_sdk::api::fixed(amount, TOTAL_DECIMALS))
}

/// What an invoice is for: a charging session, or a parking stay.
pub enum Subject {
    Session(Uuid),
    Stay { stay_id: Uuid, lot_id: Uuid, regnum: String, unassigned: bool },
}

/// An invoice to write: whom it bills, and the usage its tariff prices.
pub struct Billable {
    pub subject: Subject,
    pub driver_id: Option<String>,
    pub tariff_id: String,
    pub tariff_version: Option<i64>,
    pub rule: Option<String>,
    pub rule_version: Option<u32>,
    pub usage: SessionUsage,
}

/// Prices `usage` with the tariff's rule (or the one recorded for it).
fn quote(billable: &Billable, tariff: &Value) -> Result<(PriceBreakdown, String, u32), HandlerError> {
    let rule = billable.rule.clone().or_else(|| tariff["rule"].as_str().map(str::to_string)).unwrap_or("ocpi".into());
    let input = QuoteInput { tariff: tariff.to_string(), session: billable.usage.clone() };
    match pricing::quote(&rule, billable.rule_version, &input) {
        Ok(quote) => Ok((quote.breakdown, rule, quote.rule_version)),
        Err(PricingError::InvalidTariff(why) | PricingError::InvalidSession(why)) => Err(HandlerError::Permanent(why)),
        Err(PricingError::RuleUnavailable(why) | PricingError::RuleFailed(why)) => Err(HandlerError::Retryable(why)),
    }
}

/// Whether this session or stay already has its invoice: events arrive at least once.
fn invoiced(subject: &Subject) -> Result<bool, HandlerError> {
    let rows = match subject {
        Subject::Session(id) => db::query("SELECT id FROM invoices WHERE session_id = $1", &[id]),
        Subject::Stay { stay_id, .. } => db::query("SELECT id FROM invoices WHERE stay_id = $1", &[stay_id]),
    }
    .map_err(retry)?;
    Ok(!rows.is_empty())
}

/// Prices and writes the invoice, and publishes `invoice.created.v1`; once per session or stay.
pub fn issue(billable: Billable) -> Result<(), HandlerError> {
    if invoiced(&billable.subject)? {
        return Ok(());
    }
    let tariff = tariffs::find(&billable.tariff_id, billable.tariff_version)?;
    let tariff_version = tariff["version"].as_i64().unwrap_or_default();
    let (breakdown, rule, rule_version) = quote(&billable, &tariff)?;
    let lines: Vec<Value> = breakdown
        .lines
        .iter()
        .map(|l| json!({ "dimension": l.dimension, "volume": l.volume, "amountExclVat": l.amount_excl_vat,
                        "vatPercent": l.vat_percent, "amountInclVat": l.amount_incl_vat }))
        .collect();
    let total_excl_vat = total(&breakdown.total_excl_vat)?;
    let total_incl_vat = breakdown.total_incl_vat.as_deref().map(total).transpose()?;
    let (id, now) = (joule_sdk::ids::time_ordered(), Utc::now());
    let (kind, session_id, stay_id, lot_id, regnum, unassigned) = match &billable.subject {
        Subject::Session(session) => ("charging", Some(*session), None, None, None, false),
        Subject::Stay { stay_id, lot_id, regnum, unassigned } => {
            ("parking", None, Some(*stay_id), Some(*lot_id), Some(regnum.clone()), *unassigned)
        }
    };
    db::execute(
        "INSERT INTO invoices (id, kind, session_id, stay_id, lot_id, regnum, unassigned, driver_id, currency, lines,
                               total_excl_vat, total_incl_vat, status, tariff_id, tariff_version, rule, rule_version,
                               created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, $14, $15, $16, $17)",
        &[
            &id,
            &kind,
            &session_id,
            &stay_id,
            &lot_id,
            &regnum,
            &unassigned,
            &billable.driver_id,
            &breakdown.currency,
            &Value::from(lines),
            &total_excl_vat,
            &total_incl_vat,
            &billable.tariff_id,
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

fn charging_session(event: &Event) -> Result<(), HandlerError> {
    let session: CompletedSession = event.data_as()?;
    let Some(tariff_id) = session.tariff_id else {
        eprintln!("session {} had no tariff; nothing to invoice", session.session_id);
        return Ok(());
    };
    issue(Billable {
        subject: Subject::Session(session.session_id),
        driver_id: Some(session.driver_id),
        tariff_id,
        tariff_version: session.tariff_version,
        rule: session.rule,
        rule_version: session.rule_version,
        usage: SessionUsage {
            started_at: session.started_at,
            charging_ended_at: session.stopped_at,
            unplugged_at: session.unplugged_at,
            time_zone: session.time_zone,
            periods: session
                .periods
                .into_iter()
                .map(|p| ChargingPeriod { starts_at: p.starts_at, ends_at: p.ends_at, energy_wh: p.energy_wh })
                .collect(),
        },
    })
}

pub struct Invoicing;

impl Handler for Invoicing {
    fn handle(event: Event) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            "tariff.created.v1" | "tariff.updated.v1" => tariffs::keep(&event.data_as()?),
            "vehicle.registered.v1" | "vehicle.updated.v1" | "vehicle.removed.v1" => vehicles::keep(&event),
            "charging.session.completed.v1" => charging_session(&event),
            "parking.vehicle-left.v1" => parking::stay(&event),
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
