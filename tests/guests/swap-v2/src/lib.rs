//! Version 2 of the component the hot-swap tests deploy back and forth.

use spin_sdk::http::{Request, Response};

#[spin_sdk::http_component]
fn handle(_: Request) -> Response {
    Response::builder().status(200).header("content-type", "text/plain").body("v2").build()
}
