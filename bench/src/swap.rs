//! Swap latency: from a deploy call to the first request the new version serves, on the
//! replica that took the deploy and on another sharing its Postgres. A cold deploy brings
//! bytes never compiled before; a cached one brings bytes compiled already.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::host::Host;

/// What one kind of deploy cost, in milliseconds: (deploy call, until served here, until served on the other replica).
pub struct SwapTimes {
    pub deploy: Vec<f64>,
    pub here: Vec<f64>,
    pub replica: Vec<f64>,
}

impl SwapTimes {
    pub fn summary(&self) -> String {
        format!(
            "deploy call {}; first new response here +{}, on the other replica +{}",
            median_max(&self.deploy),
            median_max(&self.here),
            median_max(&self.replica)
        )
    }
}

fn median_max(values: &[f64]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    let max = sorted.last().copied().unwrap_or_default();
    format!("{median:.1} ms (max {max:.1})")
}

/// Deploys `rounds` versions alternating v1 and v2 of the `swap` guest to `a`, and times them.
/// `cold` makes each one new bytes, so it is compiled from scratch.
pub fn measure(a: &Host, b: &Host, v1: &[u8], v2: &[u8], rounds: usize, cold: bool) -> anyhow::Result<SwapTimes> {
    let mut times = SwapTimes { deploy: Vec::new(), here: Vec::new(), replica: Vec::new() };
    for round in 0..rounds {
        let (wasm, expected) = if round % 2 == 0 { (v2, "v2") } else { (v1, "v1") };
        let wasm = if cold { with_custom_section(wasm, &format!("bench-{}", uuid::Uuid::new_v4())) } else { wasm.to_vec() };
        let started = Instant::now();
        let (status, body) = a.admin("PUT", "/admin/v1/components/swap", &wasm)?;
        if status != 201 {
            bail!("deploy {round} failed ({status}): {body}");
        }
        let returned = Instant::now();
        times.deploy.push(millis(returned - started));
        times.here.push(millis(first_served(a, expected, returned)?));
        times.replica.push(millis(first_served(b, expected, returned)?));
    }
    Ok(times)
}

/// How long after `since` the host first answers `/swap` with `expected`.
fn first_served(host: &Host, expected: &str, since: Instant) -> anyhow::Result<Duration> {
    loop {
        let (_, body) = host.request("GET", "/swap", None)?;
        if body == expected {
            return Ok(since.elapsed());
        }
        if since.elapsed() > Duration::from_secs(10) {
            bail!("{} still served the old version 10 s after the deploy", host.address);
        }
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `wasm` with a custom section appended: different bytes, the same behaviour.
fn with_custom_section(wasm: &[u8], name: &str) -> Vec<u8> {
    let mut payload = leb128(name.len());
    payload.extend_from_slice(name.as_bytes());
    let mut out = wasm.to_vec();
    out.push(0);
    out.extend(leb128(payload.len()));
    out.extend(payload);
    out
}

fn leb128(mut value: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            bytes.push(byte);
            return bytes;
        }
        bytes.push(byte | 0x80);
    }
}

/// The `swap` guest's two versions, built by `joule build -f tests/manifests/guests.toml`.
pub fn guest_versions(root: &std::path::Path) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let read = |name: &str| {
        let path = root.join(format!("tests/guests/target/wasm32-wasip2/release/{name}.wasm"));
        std::fs::read(&path).with_context(|| format!("failed to read {}", path.display()))
    };
    Ok((read("swap_v1")?, read("swap_v2")?))
}
