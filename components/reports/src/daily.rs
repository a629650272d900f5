//! The rolled-up figures: each day's rows, written whole by the roll-up and read by the
//! reports for the days that are not dirty.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use chrono::NaiveDate;
use joule_sdk::db::{self, Error, Row};
use uuid::Uuid;

use crate::figures::{Energy, Figures, Revenue, Usage};

/// Which figures a report needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Usage,
    Energy,
    Revenue,
}

/// Makes `day`'s rows those of `figures`, whatever they were: running it twice is running it once.
pub fn replace(day: NaiveDate, figures: &Figures) -> Result<(), Error> {
    for table in ["daily_usage", "daily_energy", "daily_revenue"] {
        db::execute(&format!("DELETE FROM {table} WHERE day = $1"), &[&day])?;
    }
    for row in figures.usage.iter().filter(|row| row.day == day) {
        db::execute(
            "INSERT INTO daily_usage (day, station_id, connector_id, sessions, charging_us, occupied_us, day_us)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (day, station_id, connector_id) DO UPDATE SET sessions = excluded.sessions,
                 charging_us = excluded.charging_us, occupied_us = excluded.occupied_us, day_us = excluded.day_us",
            &[&row.day, &row.station_id, &row.connector_id, &row.sessions, &row.charging_us, &row.occupied_us, &row.day_us],
        )?;
    }
    for row in figures.energy.iter().filter(|row| row.day == day) {
        db::execute(
            "INSERT INTO daily_energy (day, station_id, energy_wh) VALUES ($1, $2, $3)
             ON CONFLICT (day, station_id) DO UPDATE SET energy_wh = excluded.energy_wh",
            &[&row.day, &row.station_id, &row.energy_wh.to_string()],
        )?;
    }
    for row in figures.revenue.iter().filter(|row| row.day == day) {
        db::execute(
            "INSERT INTO daily_revenue (day, station_key, currency, invoices, invoiced_excl_vat, invoiced_incl_vat, paid)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (day, station_key, currency) DO UPDATE SET invoices = excluded.invoices,
                 invoiced_excl_vat = excluded.invoiced_excl_vat, invoiced_incl_vat = excluded.invoiced_incl_vat,
                 paid = excluded.paid",
            &[
                &row.day,
                &station_key(row.station_id),
                &row.currency,
                &row.invoices,
                &row.invoiced_excl_vat.to_string(),
                &row.invoiced_incl_vat.to_string(),
                &row.paid.to_string(),
            ],
        )?;
    }
    Ok(())
}

/// The rolled-up `kind` figures of `range`, but for the days in `skip`.
pub fn read(range: &RangeInclusive<NaiveDate>, kind: Kind, skip: &BTreeSet<NaiveDate>) -> Result<Figures, Error> {
    let mut figures = Figures::default();
    let (table, columns) = match kind {
        Kind::Usage => ("daily_usage", "day, station_id, connector_id, sessions, charging_us, occupied_us, day_us"),
        Kind::Energy => ("daily_energy", "day, station_id, energy_wh"),
        Kind::Revenue => ("daily_revenue", "day, station_key, currency, invoices, invoiced_excl_vat, invoiced_incl_vat, paid"),
    };
    let statement = format!("SELECT {columns} FROM {table} WHERE day >= $1 AND day <= $2");
    let rows = db::query(&statement, &[range.start(), range.end()])?;
    for row in rows.iter() {
        let day: NaiveDate = row.get("day")?;
        if skip.contains(&day) {
            continue;
        }
        match kind {
            Kind::Usage => figures.usage.push(usage(row, day)?),
            Kind::Energy => {
                figures.energy.push(Energy { day, station_id: row.get("station_id")?, energy_wh: row.get("energy_wh")? })
            }
            Kind::Revenue => figures.revenue.push(revenue(row, day)?),
        }
    }
    Ok(figures)
}

fn usage(row: Row<'_>, day: NaiveDate) -> Result<Usage, Error> {
    Ok(Usage {
        day,
        station_id: row.get("station_id")?,
        connector_id: row.get("connector_id")?,
        sessions: row.get("sessions")?,
        charging_us: row.get("charging_us")?,
        occupied_us: row.get("occupied_us")?,
        day_us: row.get("day_us")?,
    })
}

fn revenue(row: Row<'_>, day: NaiveDate) -> Result<Revenue, Error> {
    let key: String = row.get("station_key")?;
    Ok(Revenue {
        day,
        station_id: Uuid::parse_str(&key).ok(),
        currency: row.get("currency")?,
        invoices: row.get("invoices")?,
        invoiced_excl_vat: row.get("invoiced_excl_vat")?,
        invoiced_incl_vat: row.get("invoiced_incl_vat")?,
        paid: row.get("paid")?,
    })
}

/// A station's key in `daily_revenue`: its id, or '' for what has no station.
fn station_key(station: Option<Uuid>) -> String {
    station.map(|id| id.to_string()).unwrap_or_default()
}
