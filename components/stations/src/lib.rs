//! The stations component: charging stations, their connectors and connector status.

mod handlers;
mod input;
mod station;
mod store;

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
    router.handle(request)
}

/// The wasm export; unit tests build natively without it.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue that #[http_component] generates")]
mod export {
    #[spin_sdk::http_component]
    fn handle(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::route(request)
    }
}
