//! `invoice.created.v1` and `payment.completed.v1`: what was invoiced, for which session or
//! stay, and what was paid. An invoice is written once and a payment is one per invoice and
//! provider reference, so the first telling stands.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use joule_sdk::db;
use joule_sdk::events::{Event, HandlerError};
use serde::Deserialize;
use uuid::Uuid;

use super::{amount, retry};
use crate::dirty;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToldInvoice {
    id: Uuid,
    kind: Option<String>,
    session_id: Option<Uuid>,
    stay_id: Option<Uuid>,
    lot_id: Option<Uuid>,
    currency: String,
    total_excl_vat: String,
    total_incl_vat: Option<String>,
    created_at: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToldPayment {
    invoice_id: Uuid,
    amount: String,
    currency: String,
    payment_reference: Option<String>,
    /// Not carried by billing yet: the event's time stands for it.
    paid_at: Option<DateTime<Utc>>,
}

pub fn invoice(event: &Event) -> Result<(), HandlerError> {
    let told: ToldInvoice = event.data_as()?;
    let excl = amount(event, "totalExclVat", &told.total_excl_vat)?;
    let incl = told.total_incl_vat.as_deref().map(|text| amount(event, "totalInclVat", text)).transpose()?;
    let kind = told.kind.clone().unwrap_or_else(|| if told.session_id.is_some() { "charging" } else { "parking" }.into());
    db::execute(
        "INSERT INTO invoices (id, kind, session_id, stay_id, lot_id, currency, total_excl_vat, total_incl_vat, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
        &[
            &told.id,
            &kind,
            &told.session_id,
            &told.stay_id,
            &told.lot_id,
            &told.currency,
            &excl.to_string(),
            &incl.map(|incl| incl.to_string()),
            &told.created_at,
        ],
    )
    .map_err(retry)?;
    let mut days = BTreeSet::new();
    dirty::around(&mut days, told.created_at, told.created_at);
    super::days_of_payments(told.id, &mut days).map_err(retry)?;
    dirty::mark(&days).map_err(retry)
}

pub fn payment(event: &Event) -> Result<(), HandlerError> {
    let told: ToldPayment = event.data_as()?;
    let paid = amount(event, "amount", &told.amount)?;
    let paid_at = told.paid_at.or_else(|| event.time.parse().ok()).unwrap_or_else(Utc::now);
    // A provider reference tells one payment of an invoice from another; without one, the
    // invoice's single payment is meant.
    let reference = told.payment_reference.clone().unwrap_or_else(|| told.invoice_id.to_string());
    db::execute(
        "INSERT INTO payments (invoice_id, reference, amount, currency, paid_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (invoice_id, reference) DO NOTHING",
        &[&told.invoice_id, &reference, &paid.to_string(), &told.currency, &paid_at],
    )
    .map_err(retry)?;
    let mut days = BTreeSet::new();
    dirty::around(&mut days, paid_at, paid_at);
    dirty::mark(&days).map_err(retry)
}
