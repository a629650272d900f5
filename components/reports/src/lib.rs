//! The reports component: utilization, energy and revenue per day and station, for
//! operators, built from events into its own tables.
//!
//! - [`facts`] keeps stations, sessions, invoices and payments from their events,
//!   idempotently and in any order, and marks the days each may count on as [`dirty`];
//! - [`figures`] computes a set of local days' figures from the facts, cutting time by
//!   [`days`]: pure, and the one function behind both the roll-up and the live reports;
//! - [`rollup`] writes finished dirty days into the daily tables ([`daily`]) each night;
//! - [`report`] answers the three reports from the daily tables and, for dirty days, from
//!   the facts, as JSON or CSV ([`csv`]), with their parameters checked by [`query`].

mod csv;
mod daily;
mod days;
mod dirty;
mod facts;
mod figures;
mod model;
mod query;
mod report;
mod rollup;
mod store;

use joule_sdk::api;
use joule_sdk::events::{Event, Handler, HandlerError};
use spin_sdk::http::{Request, Response};

/// Dispatches a request to its handler; unknown paths and methods get JSON 404 and 405.
pub fn route(request: Request) -> Response {
    let mut router = api::Routes::new();
    router.get("/api/v1/reports/utilization", report::utilization::get);
    router.get("/api/v1/reports/energy", report::energy::get);
    router.get("/api/v1/reports/revenue", report::revenue::get);
    router.handle(request)
}

/// The event handler that keeps the reports' facts and daily roll-ups.
pub struct Reports;

impl Handler for Reports {
    fn handle(event: Event) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            "station.created.v1" | "station.updated.v1" => facts::station(&event),
            "charging.session.started.v1" => facts::started(&event),
            "charging.session.completed.v1" => facts::completed(&event),
            "invoice.created.v1" => facts::invoice(&event),
            "payment.completed.v1" => facts::payment(&event),
            rollup::EVENT => rollup::run(&event),
            _ => Ok(()),
        }
    }
}

/// The wasm exports; unit tests build natively without them.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macros generate")]
mod export {
    use super::Reports;

    #[spin_sdk::http_component]
    fn handle(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::route(request)
    }

    joule_sdk::export_handler!(Reports);
}
