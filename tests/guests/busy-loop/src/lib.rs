//! Computes forever without yielding: the host's timeout must stop it.

use spin_sdk::http::{Request, Response};

#[spin_sdk::http_component]
fn handle(_: Request) -> Response {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}
