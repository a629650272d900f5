//! The tariffs component: OCPI 2.2.1 tariffs, versioned, and price quotes.

mod handlers;
mod session;
mod store;
mod validate;

use joule_sdk::api;
use spin_sdk::http::{Request, Response};

/// Dispatches a request to its handler; unknown paths and methods get JSON 404 and 405.
pub fn route(request: Request) -> Response {
    let mut router = api::Routes::new();
    router.post("/api/v1/tariffs", handlers::create);
    router.get("/api/v1/tariffs/:id", handlers::get);
    router.put("/api/v1/tariffs/:id", handlers::update);
    router.post("/api/v1/pricing/quote", handlers::quote);
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
