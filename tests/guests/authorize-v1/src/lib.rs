//! Version 1 of the Authorize handler the OCPP hot-swap test deploys: every token is accepted.

const STATUS: &str = "Accepted";

include!("authorizer.rs");
