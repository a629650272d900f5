//! Takes half a second per request, so concurrent requests pile up against its limit.

use spin_sdk::http::{Request, Response};

#[spin_sdk::http_component]
fn handle(_: Request) -> Response {
    std::thread::sleep(std::time::Duration::from_millis(500));
    Response::new(200, "done")
}
