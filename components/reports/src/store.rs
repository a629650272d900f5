//! Reading the facts back: every fact that may count on some days, with the facts that say
//! where it counts (an invoice's session, a payment's invoice and its session).

use std::collections::HashMap;
use std::ops::RangeInclusive;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use joule_sdk::db::{self, Error, Row};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::days;
use crate::model::{Completion, Facts, Invoice, Payment, Period, Session, Station};

const SESSION: &str = "s.id, s.station_id, s.connector_id, s.time_zone, s.started_at, s.charging_ended_at, s.unplugged_at, \
                       s.energy_wh, s.periods";
const INVOICE: &str = "i.id, i.session_id, i.currency, i.total_excl_vat, i.total_incl_vat, i.created_at";
const PAYMENT: &str = "p.invoice_id, p.reference, p.amount, p.currency, p.paid_at";

/// The facts that may count on `days` at any station.
pub fn facts_for(days: &RangeInclusive<NaiveDate>) -> Result<Facts, Error> {
    let (from, to) = days::instants_around(days);
    let window: [&dyn db::ToSql; 2] = [&from, &to];
    let mut facts = Facts::default();
    for row in db::query("SELECT id, name, time_zone FROM stations", &[])?.iter() {
        facts.add_station(Station { id: row.get("id")?, name: row.get("name")?, time_zone: row.get("time_zone")? });
    }
    let sessions = [
        format!("SELECT {SESSION} FROM sessions s WHERE s.started_at < $2 AND s.ends_at >= $1"),
        format!(
            "SELECT {SESSION} FROM sessions s JOIN invoices i ON i.session_id = s.id WHERE i.created_at >= $1 AND i.created_at < $2"
        ),
        format!(
            "SELECT {SESSION} FROM sessions s JOIN invoices i ON i.session_id = s.id JOIN payments p ON p.invoice_id = i.id
             WHERE p.paid_at >= $1 AND p.paid_at < $2"
        ),
    ];
    for statement in &sessions {
        for row in db::query(statement, &window)?.iter() {
            facts.add_session(session(row)?);
        }
    }
    let invoices = [
        format!("SELECT {INVOICE} FROM invoices i WHERE i.created_at >= $1 AND i.created_at < $2"),
        format!(
            "SELECT {INVOICE} FROM invoices i JOIN payments p ON p.invoice_id = i.id WHERE p.paid_at >= $1 AND p.paid_at < $2"
        ),
    ];
    for statement in &invoices {
        for row in db::query(statement, &window)?.iter() {
            facts.add_invoice(invoice(row)?);
        }
    }
    for row in db::query(&format!("SELECT {PAYMENT} FROM payments p WHERE p.paid_at >= $1 AND p.paid_at < $2"), &window)?.iter() {
        facts.add_payment(payment(row)?);
    }
    Ok(facts)
}

/// Every station's name, for the reports' items.
pub fn station_names() -> Result<HashMap<Uuid, String>, Error> {
    let rows = db::query("SELECT id, name FROM stations", &[])?;
    rows.iter().map(|row| Ok((row.get("id")?, row.get("name")?))).collect()
}

/// The zones days are counted in: every station's, every session's, and UTC.
pub fn zones_in_use() -> Result<Vec<Tz>, Error> {
    let mut zones = vec![Tz::UTC];
    for statement in ["SELECT DISTINCT time_zone FROM stations", "SELECT DISTINCT time_zone FROM sessions"] {
        for row in db::query(statement, &[])?.iter() {
            zones.push(days::zone(&row.get::<String>("time_zone")?));
        }
    }
    Ok(zones)
}

fn decimal(row: Row<'_>, column: &str) -> Result<Decimal, Error> {
    row.get(column)
}

fn session(row: Row<'_>) -> Result<Session, Error> {
    let charging_ended_at: Option<DateTime<Utc>> = row.get("charging_ended_at")?;
    let completion = match charging_ended_at {
        Some(charging_ended_at) => Some(Completion {
            charging_ended_at,
            unplugged_at: row.get::<Option<DateTime<Utc>>>("unplugged_at")?.unwrap_or(charging_ended_at),
            energy_wh: row.get::<Option<i64>>("energy_wh")?.unwrap_or_default(),
            periods: periods(&row.get::<Option<Value>>("periods")?.unwrap_or_default())?,
        }),
        None => None,
    };
    Ok(Session {
        id: row.get("id")?,
        station_id: row.get("station_id")?,
        connector_id: row.get("connector_id")?,
        time_zone: row.get("time_zone")?,
        started_at: row.get("started_at")?,
        completion,
    })
}

/// Periods as the `periods` column keeps them: `[{startsAt, endsAt, energyWh}]`.
pub fn stored_periods(periods: &[Period]) -> Value {
    let time = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let stored =
        periods.iter().map(|p| json!({ "startsAt": time(p.starts_at), "endsAt": time(p.ends_at), "energyWh": p.energy_wh }));
    Value::Array(stored.collect())
}

/// The periods the `periods` column keeps, as [`stored_periods`] wrote them.
fn periods(stored: &Value) -> Result<Vec<Period>, Error> {
    let bad = || Error::UnsupportedType("the stored periods are not as written".into());
    let time = |value: &Value| value.as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok()).ok_or_else(bad);
    let Some(items) = stored.as_array() else { return Ok(Vec::new()) };
    items
        .iter()
        .map(|item| {
            Ok(Period {
                starts_at: time(&item["startsAt"])?,
                ends_at: time(&item["endsAt"])?,
                energy_wh: item["energyWh"].as_i64().ok_or_else(bad)?,
            })
        })
        .collect()
}

fn invoice(row: Row<'_>) -> Result<Invoice, Error> {
    Ok(Invoice {
        id: row.get("id")?,
        session_id: row.get("session_id")?,
        currency: row.get("currency")?,
        total_excl_vat: decimal(row, "total_excl_vat")?,
        total_incl_vat: row.get("total_incl_vat")?,
        created_at: row.get("created_at")?,
    })
}

fn payment(row: Row<'_>) -> Result<Payment, Error> {
    Ok(Payment {
        invoice_id: row.get("invoice_id")?,
        reference: row.get("reference")?,
        amount: decimal(row, "amount")?,
        currency: row.get("currency")?,
        paid_at: row.get("paid_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_back_as_written_to_the_microsecond() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        let written = vec![
            Period { starts_at: at("2026-03-02T07:30:00Z"), ends_at: at("2026-03-02T08:00:00.123456Z"), energy_wh: 5500 },
            Period { starts_at: at("2026-03-02T08:00:00.123456Z"), ends_at: at("2026-03-02T08:40:00Z"), energy_wh: 7300 },
        ];
        assert_eq!(periods(&stored_periods(&written)).unwrap(), written);
        assert!(periods(&Value::Null).unwrap().is_empty());
        assert!(periods(&json!([{ "startsAt": "soon" }])).is_err());
    }
}
