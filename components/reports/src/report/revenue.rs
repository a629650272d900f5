//! `GET /api/v1/reports/revenue?from&to&currency?&stationId?`: per local day, station and
//! currency, what was invoiced (by the day each invoice was created) and what was paid (by
//! the day of payment), exact to the cent. Invoices with no station (parking stays, and
//! charging sessions whose events have not arrived yet) count on UTC days, with no station.

use spin_sdk::http::{Params, Request, Response};

use super::{Asked, Result, day, fixed};
use crate::csv::{Cell, Item};
use crate::daily::Kind;
use crate::query::Filter;

const COLUMNS: [&str; 8] =
    ["day", "stationId", "stationName", "currency", "invoices", "invoicedExclVat", "invoicedInclVat", "paid"];

/// Invoice totals and payments are in a currency's two decimals.
const MONEY_DECIMALS: u32 = 2;

pub fn get(request: Request, _: Params) -> Result<Response> {
    let asked = Asked::read(&request, &[Filter::StationId, Filter::Currency])?;
    let figures = super::figures_of(&asked.query, Kind::Revenue)?;
    let (station, currency) = (asked.query.station_id, asked.query.currency.as_deref());
    let items = figures
        .revenue
        .into_iter()
        .filter(|row| station.is_none_or(|id| row.station_id == Some(id)))
        .filter(|row| currency.is_none_or(|c| c == row.currency))
        .map(|row| {
            let [id, name] = asked.station_cells(row.station_id);
            Item(vec![
                ("day", Cell::text(day(row.day))),
                id,
                name,
                ("currency", Cell::text(row.currency)),
                ("invoices", Cell::Whole(row.invoices)),
                ("invoicedExclVat", fixed(row.invoiced_excl_vat, MONEY_DECIMALS)),
                ("invoicedInclVat", fixed(row.invoiced_incl_vat, MONEY_DECIMALS)),
                ("paid", fixed(row.paid, MONEY_DECIMALS)),
            ])
        })
        .collect();
    Ok(asked.answer(&COLUMNS, items))
}
