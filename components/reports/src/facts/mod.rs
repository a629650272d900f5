//! Facts from events. Events arrive at least once and in any order: each fact is upserted
//! by its id so that telling it again changes nothing, and a fact that completes another
//! (a session's end after its start) wins over the fact it completes, whichever comes first.
//! Every write marks the days its fact may count on, and the days of the facts whose place
//! it may change, as dirty ([`crate::dirty`]), so late facts reach rolled-up days too.

mod billing;
mod sessions;
mod stations;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use joule_sdk::db::{self, Error};
use joule_sdk::events::{Event, HandlerError};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::dirty;

pub use billing::{invoice, payment};
pub use sessions::{completed, started};
pub use stations::station;

/// A database failure may pass: the delivery is retried.
pub fn retry(error: Error) -> HandlerError {
    HandlerError::Retryable(format!("{error:?}"))
}

/// An event whose data is not what its type promises never will be.
fn malformed(event: &Event, why: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(format!("{} {}: {why}", event.event_type, event.id))
}

fn amount(event: &Event, field: &str, text: &str) -> Result<Decimal, HandlerError> {
    text.parse().map_err(|_| malformed(event, format!("{field} {text:?} is not a decimal")))
}

/// The days of every invoice of `session` and of every payment of those invoices: a
/// session's arrival gives them their station.
fn days_of_invoices(session: Uuid, days: &mut BTreeSet<NaiveDate>) -> Result<(), Error> {
    let created = db::query("SELECT created_at FROM invoices WHERE session_id = $1", &[&session])?;
    let paid = db::query(
        "SELECT p.paid_at FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE i.session_id = $1",
        &[&session],
    )?;
    add_instants(&created, "created_at", days)?;
    add_instants(&paid, "paid_at", days)
}

/// The days of every payment of `invoice`: an invoice's arrival gives them their place.
fn days_of_payments(invoice: Uuid, days: &mut BTreeSet<NaiveDate>) -> Result<(), Error> {
    let paid = db::query("SELECT paid_at FROM payments WHERE invoice_id = $1", &[&invoice])?;
    add_instants(&paid, "paid_at", days)
}

fn add_instants(rows: &db::Rows, column: &str, days: &mut BTreeSet<NaiveDate>) -> Result<(), Error> {
    for row in rows.iter() {
        let at: DateTime<Utc> = row.get(column)?;
        dirty::around(days, at, at);
    }
    Ok(())
}
