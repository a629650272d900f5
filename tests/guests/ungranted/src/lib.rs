//! Imports the key-value capability; its test manifest does not grant it.

use spin_sdk::http::{Request, Response};

#[spin_sdk::http_component]
fn handle(_: Request) -> Response {
    let value = joule_sdk::kv::get("key").ok().flatten().unwrap_or_default();
    Response::new(200, value)
}
