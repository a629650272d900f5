//! The stations component: charging stations, their connectors and connector status, and
//! the OCPP charge points that report it.

mod calls;
mod charge_points;
mod handlers;
mod heartbeats;
mod input;
mod ocpp;
mod ocpp_input;
mod ocpp_messages;
mod password;
mod presence;
mod station;
mod store;

pub use heartbeats::Heartbeats;
pub use ocpp::Stations;

use joule_sdk::api;
use spin_sdk::http::{Request, Response};

/// Dispatches a request to its handler; unknown paths and methods get JSON 404 and 405.
pub fn route(request: Request) -> Response {
    let mut router = api::Routes::new();
    router.post("/api/v1/stations", handlers::create);
    router.get("/api/v1/stations", handlers::list);
    router.get("/api/v1/stations/:id", handlers::get);
    router.patch("/api/v1/stations/:id", handlers::update);
    router.delete("/api/v1/stations/:id", handlers::delete);
    router.put("/api/v1/stations/:id/connectors/:connector_id/status", handlers::set_connector_status);
    router.put("/api/v1/stations/:id/ocpp-password", handlers::set_ocpp_password);
    router.post("/api/v1/stations/:id/status-refresh", handlers::refresh_status);
    router.handle(request)
}

/// The wasm exports, HTTP, OCPP and the timers' event handler; unit tests build natively without them.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue that #[http_component] and export_ocpp_handler! generate")]
mod export {
    use super::{Heartbeats, Stations};

    #[spin_sdk::http_component]
    fn handle(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::route(request)
    }

    joule_sdk::export_ocpp_handler!(Stations);
    joule_sdk::export_handler!(Heartbeats);
}
