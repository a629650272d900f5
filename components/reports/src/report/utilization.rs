//! `GET /api/v1/reports/utilization?from&to&stationId?`: per station, connector and local
//! day, the hours charging (start to charging's end), the hours occupied (start to
//! unplugging), the sessions started, and the utilization: hours occupied over the hours
//! that day has (23 or 25 when the clocks change).

use rust_decimal::Decimal;
use spin_sdk::http::{Params, Request, Response};

use super::{Asked, Result, day, fixed, hours};
use crate::csv::{Cell, Item};
use crate::daily::Kind;
use crate::query::Filter;

const COLUMNS: [&str; 9] =
    ["day", "stationId", "stationName", "connectorId", "sessions", "hoursCharging", "hoursOccupied", "hoursInDay", "utilization"];

pub fn get(request: Request, _: Params) -> Result<Response> {
    let asked = Asked::read(&request, &[Filter::StationId])?;
    let figures = super::figures_of(&asked.query, Kind::Usage)?;
    let station = asked.query.station_id;
    let items = figures
        .usage
        .into_iter()
        .filter(|row| station.is_none_or(|id| id == row.station_id))
        .map(|row| {
            let [id, name] = asked.station_cells(Some(row.station_id));
            let share = Decimal::from(row.occupied_us) / Decimal::from(row.day_us.max(1));
            Item(vec![
                ("day", Cell::text(day(row.day))),
                id,
                name,
                ("connectorId", Cell::text(row.connector_id)),
                ("sessions", Cell::Whole(row.sessions)),
                ("hoursCharging", hours(row.charging_us)),
                ("hoursOccupied", hours(row.occupied_us)),
                ("hoursInDay", hours(row.day_us)),
                ("utilization", fixed(share, 4)),
            ])
        })
        .collect();
    Ok(asked.answer(&COLUMNS, items))
}
