//! The smallest HTTP component: the benchmark's unit of work-free request.

use spin_sdk::http::{Request, Response};

#[spin_sdk::http_component]
fn handle(_: Request) -> Response {
    Response::builder().status(200).header("content-type", "text/plain").body("hello").build()
}
