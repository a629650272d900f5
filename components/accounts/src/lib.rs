//! The accounts component: each driver's profile, vehicles and charging tokens under
//! `/api/v1/me`, and the operators' view of every account under `/api/v1/accounts`.
//!
//! A person is the subject of their verified token; no password is ever stored. Events name
//! the subject, vehicle ids, plates and token uids, never an email address or phone number.
//! Charge points' OCPP Authorize is answered here too, from the tokens, and notifications
//! are mailed to those whose profile asks for email (`mail.rs`).

mod authorize;
mod mail;
mod operators;
mod path;
mod profile;
mod tokens;
mod vehicles;

pub use authorize::Accounts;
pub use mail::Mail;

use joule_sdk::api;
use spin_sdk::http::{Request, Response};

/// Dispatches a request to its handler; unknown paths and methods get JSON 404 and 405.
pub fn route(request: Request) -> Response {
    let mut router = api::Routes::new();
    router.get("/api/v1/me", profile::get);
    router.patch("/api/v1/me", profile::update);
    router.get("/api/v1/me/vehicles", vehicles::list);
    router.post("/api/v1/me/vehicles", vehicles::create);
    router.get("/api/v1/me/vehicles/:id", vehicles::get);
    router.patch("/api/v1/me/vehicles/:id", vehicles::update);
    router.delete("/api/v1/me/vehicles/:id", vehicles::delete);
    router.get("/api/v1/me/tokens", tokens::list);
    router.post("/api/v1/me/tokens", tokens::issue);
    router.get("/api/v1/me/tokens/:uid", tokens::get);
    router.delete("/api/v1/me/tokens/:uid", tokens::revoke);
    router.get("/api/v1/accounts", operators::list);
    router.get("/api/v1/accounts/:subject", operators::get);
    router.put("/api/v1/accounts/:subject/tokens/:uid/status", operators::set_token_status);
    router.handle(request)
}

type Result<T = Response> = std::result::Result<T, api::ApiError>;

/// The wasm exports, HTTP, OCPP and the event handler; unit tests build natively without them.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue that #[http_component] and export_ocpp_handler! generate")]
mod export {
    use super::{Accounts, Mail};

    #[spin_sdk::http_component]
    fn handle(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::route(request)
    }

    joule_sdk::export_ocpp_handler!(Accounts);
    joule_sdk::export_handler!(Mail);
}
