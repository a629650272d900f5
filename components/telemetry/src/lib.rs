//! The telemetry component: live power, energy and status per connector, and charge points'
//! heartbeats, kept in the key-value store from events.
//!
//! - [`live`]: the facts kept, and what orders each against an older one;
//! - [`store`]: facts in the key-value store, safe against events handled at once;
//! - [`changes`]: what each consumed event changes;
//! - [`handler`]: the event handler that keeps them;
//! - [`view`]: the live view of a station.

mod changes;
mod handler;
mod live;
mod store;
mod view;

pub use handler::Telemetry;

use joule_sdk::api;
use spin_sdk::http::{Request, Response};

/// Dispatches a request to its handler; unknown paths and methods get JSON 404 and 405.
pub fn route(request: Request) -> Response {
    let mut router = api::Routes::new();
    router.get("/api/v1/telemetry/stations/:id", view::station);
    router.handle(request)
}

/// The wasm exports; unit tests build natively without them.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macros generate")]
mod export {
    use super::Telemetry;

    #[spin_sdk::http_component]
    fn handle(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::route(request)
    }

    joule_sdk::export_handler!(Telemetry);
}
