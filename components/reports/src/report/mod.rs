//! The reports: figures of the days asked for, read from the roll-up where a day is rolled
//! up and not dirty, and computed from the facts (by the roll-up's own function) where it
//! is not, so the answer never depends on whether the roll-up ran. Operators only.

pub mod energy;
pub mod revenue;
pub mod utilization;

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError};
use rust_decimal::Decimal;
use serde_json::json;
use spin_sdk::http::{Request, Response};
use uuid::Uuid;

use crate::csv::{self, Cell, Item};
use crate::daily::{self, Kind};
use crate::figures::{self, Figures};
use crate::query::{self, Filter, Query};
use crate::{days, dirty, store};

type Result<T = Response> = std::result::Result<T, ApiError>;

/// A report being answered: its checked query, and the station names for its items.
pub struct Asked {
    pub query: Query,
    names: HashMap<Uuid, String>,
    csv: bool,
}

impl Asked {
    /// The caller must be an operator; the query is checked for a report taking `filters`.
    pub fn read(request: &Request, filters: &[Filter]) -> Result<Self> {
        Caller::require_operator()?;
        let query = query::parse(&api::query_params(request)?, filters)?;
        let accept = request.header("accept").and_then(|value| value.as_str());
        Ok(Self { query, names: store::station_names()?, csv: csv::wants_csv(accept) })
    }

    /// The station's id and name, as the first cells after the day.
    pub fn station_cells(&self, station_id: Option<Uuid>) -> [(&'static str, Cell); 2] {
        let name = station_id.and_then(|id| self.names.get(&id)).cloned();
        [("stationId", Cell::optional(station_id.map(|id| id.to_string()))), ("stationName", Cell::optional(name))]
    }

    /// The items as JSON (`{from, to, items}`), or as CSV when the client asked for it.
    pub fn answer(&self, columns: &[&str], items: Vec<Item>) -> Response {
        if self.csv {
            return Response::builder()
                .status(200)
                .header("content-type", "text/csv; charset=utf-8; header=present")
                .body(csv::document(columns, &items))
                .build();
        }
        api::json(200, &json!({ "from": day(self.query.from), "to": day(self.query.to), "items": items }))
    }
}

/// The `kind` figures of the query's days: rolled-up rows for clean days, and the figures
/// of dirty days computed from the facts.
pub fn figures_of(query: &Query, kind: Kind) -> Result<Figures> {
    let range = query.days();
    let dirty = dirty::within(&range)?;
    let mut figures = daily::read(&range, kind, &dirty)?;
    for run in days::runs(dirty.iter().copied()) {
        let facts = store::facts_for(&run)?;
        let days: BTreeSet<NaiveDate> = days::each(&run).collect();
        let live = figures::compute(&facts, &days);
        figures.usage.extend(live.usage.into_iter().filter(|_| kind == Kind::Usage));
        figures.energy.extend(live.energy.into_iter().filter(|_| kind == Kind::Energy));
        figures.revenue.extend(live.revenue.into_iter().filter(|_| kind == Kind::Revenue));
    }
    figures.usage.sort_by(|a, b| (a.day, a.station_id, &a.connector_id).cmp(&(b.day, b.station_id, &b.connector_id)));
    figures.energy.sort_by_key(|row| (row.day, row.station_id));
    figures.revenue.sort_by(|a, b| {
        let key = |r: &figures::Revenue| (r.day, r.station_id.is_none(), r.station_id, r.currency.clone());
        key(a).cmp(&key(b))
    });
    Ok(figures)
}

pub fn day(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// An exact decimal with `places` decimals, as the API writes them.
pub fn fixed(value: Decimal, places: u32) -> Cell {
    Cell::text(api::fixed(value, places))
}

/// Microseconds as hours, to four decimals (as invoices write volumes).
pub fn hours(micros: i64) -> Cell {
    fixed(Decimal::from(micros) / Decimal::from(3_600_000_000_i64), 4)
}
