//! The billing component: invoices for completed sessions and parking stays, and payments.

pub mod invoices;
mod invoicing;
mod parking;
mod payments;
mod tariffs;
mod vehicles;

use joule_sdk::api;
use spin_sdk::http::{Request, Response};

/// The event handler that keeps tariffs and writes invoices.
pub use invoicing::Invoicing;

/// Dispatches a request to its handler; unknown paths and methods get JSON 404 and 405.
pub fn route(request: Request) -> Response {
    let mut router = api::Routes::new();
    router.get("/api/v1/invoices", invoices::list);
    router.get("/api/v1/invoices/:id", invoices::get);
    router.post("/api/v1/invoices/:id/pay", invoices::pay);
    router.handle(request)
}

/// The wasm exports; unit tests build natively without them.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macros generate")]
mod export {
    use crate::Invoicing;

    #[spin_sdk::http_component]
    fn handle(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::route(request)
    }

    joule_sdk::export_handler!(Invoicing);
}
