//! Version 2 of the Authorize handler the OCPP hot-swap test deploys: every token is blocked.

const STATUS: &str = "Blocked";

include!("../../authorize-v1/src/authorizer.rs");
