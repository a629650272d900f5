//! The reservations component: reservations and charging sessions.
//!
//! It never reads the stations or tariffs schemas: it keeps its own copy of stations,
//! connectors and tariff versions from their events ([`replica`]).

mod connectors;
mod expiry;
mod limits;
mod replica;
mod reservations;
mod sessions;
mod settings;

use joule_sdk::api;
use spin_sdk::http::{Request, Response};

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
    router.get("/api/v1/sessions/:id", sessions::get);
    router.post("/api/v1/sessions/:id/meter-values", sessions::meter_value);
    router.post("/api/v1/sessions/:id/stop", sessions::stop);
    router.handle(request)
}


/// The wasm exports; unit tests build natively without them.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macros generate")]
mod export {
    use crate::Replica;

    #[spin_sdk::http_component]
    fn handle(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::route(request)
    }

    joule_sdk::export_handler!(Replica);
}
