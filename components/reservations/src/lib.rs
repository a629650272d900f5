//! The reservations component: reservations and charging sessions.
//!
//! It never reads the stations, tariffs or accounts schemas: it keeps its own copy of
//! stations, connectors, tariff versions and charging tokens from their events
//! ([`replica`]). Sessions start and stop over REST ([`sessions`]) and from charge points
//! over OCPP ([`ocpp`]), on one model ([`charging`]); on an OCPP station a driver's start
//! and stop are calls to the charge point ([`remote`]).

mod charging;
mod connectors;
mod expiry;
mod holds;
mod limits;
mod meter_events;
mod ocpp;
mod ocpp_messages;
mod remote;
mod replica;
mod reservations;
mod sessions;
mod settings;
mod tokens;

use joule_sdk::api::{self, Owner};
use spin_sdk::http::{Request, Response};

/// Reservations and sessions belong to a driver, whom an operator names with `?driverId=`.
const DRIVER: Owner<'static> = Owner { column: "driver_id", parameter: "driverId" };

/// The OCPP handler of charge points' transactions.
pub use ocpp::Sessions;
/// The event handler that keeps the copy of stations and tariffs, and records no-shows.
pub use replica::Replica;

/// Dispatches a request to its handler; unknown paths and methods get JSON 404 and 405.
pub fn route(request: Request) -> Response {
    let mut router = api::Routes::new();
    router.post("/api/v1/reservations", reservations::create);
    router.get("/api/v1/reservations", reservations::list);
    router.get("/api/v1/reservations/:id", reservations::get);
    router.delete("/api/v1/reservations/:id", reservations::cancel);
    router.post("/api/v1/sessions", sessions::start);
    router.get("/api/v1/sessions/starts/:id", remote::get_start);
    router.get("/api/v1/sessions", sessions::list);
    router.get("/api/v1/sessions/:id", sessions::get);
    router.post("/api/v1/sessions/:id/meter-values", sessions::meter_value);
    router.post("/api/v1/sessions/:id/stop", sessions::stop);
    router.handle(request)
}


/// The wasm exports; unit tests build natively without them.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macros generate")]
mod export {
    use crate::{Replica, Sessions};

    #[spin_sdk::http_component]
    fn handle(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::route(request)
    }

    joule_sdk::export_handler!(Replica);
    joule_sdk::export_ocpp_handler!(Sessions);
}
