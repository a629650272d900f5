//! `GET /api/v1/reports/energy?from&to&stationId?`: the kWh each station delivered per
//! local day; a charging period crossing midnight gives each day its share by time.

use rust_decimal::Decimal;
use spin_sdk::http::{Params, Request, Response};

use super::{Asked, Result, day, fixed};
use crate::csv::{Cell, Item};
use crate::daily::Kind;
use crate::query::Filter;

const COLUMNS: [&str; 4] = ["day", "stationId", "stationName", "energyKwh"];

pub fn get(request: Request, _: Params) -> Result<Response> {
    let asked = Asked::read(&request, &[Filter::StationId])?;
    let figures = super::figures_of(&asked.query, Kind::Energy)?;
    let station = asked.query.station_id;
    let items = figures
        .energy
        .into_iter()
        .filter(|row| station.is_none_or(|id| id == row.station_id))
        .map(|row| {
            let [id, name] = asked.station_cells(Some(row.station_id));
            Item(vec![
                ("day", Cell::text(day(row.day))),
                id,
                name,
                ("energyKwh", fixed(row.energy_wh / Decimal::ONE_THOUSAND, 3)),
            ])
        })
        .collect();
    Ok(asked.answer(&COLUMNS, items))
}
