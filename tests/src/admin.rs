//! Talking to a host's admin listener: deploys, rollbacks and listings.

use serde_json::{Value, json};

use crate::{Joule, client, read, repo_root};

/// The admin token every test host starts with.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// A test guest's compiled wasm, by its file name without `.wasm`.
pub fn guest_wasm(name: &str) -> Vec<u8> {
    let path = repo_root().join(format!("tests/guests/target/wasm32-wasip2/release/{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

impl Joule {
    /// A URL on the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.admin_base)
    }

    /// `PUT /admin/v1/components/{name}` with the token.
    pub async fn deploy(&self, name: &str, wasm: Vec<u8>) -> (u16, Value) {
        let request = client().put(self.admin_url(&format!("/admin/v1/components/{name}"))).bearer_auth(ADMIN_TOKEN);
        read(request.body(wasm).send().await.expect("deploy")).await
    }

    /// `POST /admin/v1/components/{name}/rollback` with the token.
    pub async fn rollback(&self, name: &str, version: Option<u32>) -> (u16, Value) {
        let request = client().post(self.admin_url(&format!("/admin/v1/components/{name}/rollback")));
        let request = request.bearer_auth(ADMIN_TOKEN).json(&json!({ "version": version }));
        read(request.send().await.expect("rollback")).await
    }

    /// The `/metrics` page.
    pub async fn metrics(&self) -> String {
        client().get(self.admin_url("/metrics")).send().await.expect("scrape").text().await.expect("metrics")
    }

    /// `GET` an admin path with the token.
    pub async fn admin_get(&self, path: &str) -> (u16, Value) {
        read(client().get(self.admin_url(path)).bearer_auth(ADMIN_TOKEN).send().await.expect("admin GET")).await
    }
}

/// The value of the sample `series` (name and labels, as written) in a `/metrics` page; 0 when absent.
pub fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}
