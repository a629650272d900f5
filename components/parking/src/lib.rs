//! The parking component: lots, their levels and slots, and parking and leaving, for
//! operators only.
//!
//! A lot is defined once with its slots. An arriving vehicle gets the best free slot that
//! fits it ([`assignment`]), and a leaving one frees it; `parking.vehicle-left.v1` carries
//! the stay with the lot's terms, from which billing invoices it.

mod assignment;
mod csv_export;
mod fields;
mod lot;
mod lots;
mod status;
mod stays;
mod store;

use joule_sdk::api::{self, ApiError};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::lot::Slot;

/// Dispatches a request to its handler; unknown paths and methods get JSON 404 and 405.
pub fn route(request: Request) -> Response {
    let mut router = api::Routes::new();
    router.post("/api/v1/parking/lots", lots::create);
    router.get("/api/v1/parking/lots", lots::list);
    router.get("/api/v1/parking/lots/:id", lots::get);
    router.post("/api/v1/parking/lots/:id/park", stays::park);
    router.post("/api/v1/parking/lots/:id/leave", stays::leave);
    router.get("/api/v1/parking/lots/:id/status", status::get);
    router.get("/api/v1/parking/lots/:id/export.csv", csv_export::get);
    router.handle(request)
}

type Result<T = Response> = std::result::Result<T, ApiError>;

/// The lot named in the path. An id that is not a UUID names no lot: 404, as an unknown one.
fn lot_id(params: &Params) -> Result<Uuid> {
    let raw = params.get("id").unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("parking lot", raw))
}

fn no_lot(id: Uuid) -> ApiError {
    ApiError::not_found("parking lot", &id.to_string())
}

/// The slots of a lot, read with [`store::slots`]: every lot has at least one, so none means
/// there is no such lot, and one read answers both.
fn existing_slots(lot_id: Uuid, slots: Vec<Slot>) -> Result<Vec<Slot>> {
    if slots.is_empty() { Err(no_lot(lot_id)) } else { Ok(slots) }
}

/// The wasm exports; unit tests build natively without them.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macro generates")]
mod export {
    #[spin_sdk::http_component]
    fn handle(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::route(request)
    }
}
