//! Allocates without end: the host's memory limit must stop it.

use spin_sdk::http::{Request, Response};

#[spin_sdk::http_component]
fn handle(_: Request) -> Response {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
    }
}
