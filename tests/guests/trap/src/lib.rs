//! Traps on every request: the host must fail this request alone.

use spin_sdk::http::{Request, Response};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    panic!("this component always traps ({})", request.path());
}
