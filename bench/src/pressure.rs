//! What load leaves behind, and what a flood of idle connections does to the host.
//!
//! - `memory`: the guests' host under wrk with 1,000 connections on hello, then storms of
//!   memory bombs and traps; resident memory and what the instance pool keeps, afterwards and
//!   a minute later, with the default `--pool-resident-budget` and with slots keeping all they
//!   may (8 MiB each, the earlier setting).
//! - `connections`: thousands of idle sockets held against the public listener; how many
//!   descriptors the host holds, and how long `/health/live`, `/health/ready` and the admin
//!   `/metrics` take to answer meanwhile.

use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::host::Host;

/// Memory after each stage of the load, in MiB.
pub struct Memory {
    pub idle: f64,
    pub after_load: f64,
    /// The instance pool's idle slots, right after the load.
    pub pool_after_load: f64,
    pub minute_later: f64,
    pub pool_minute_later: f64,
}

/// Runs the loads against the guests of `manifest`, started with `env`.
pub fn memory(joule: &Path, manifest: &Path, env: &[(&str, String)], duration: &str) -> anyhow::Result<Memory> {
    let host = Host::start(joule, manifest, env)?;
    std::thread::sleep(Duration::from_secs(2));
    let idle = mib(host.resident_kib()?);
    storm(&host.url("/hello"), duration, 1000)?;
    storm(&host.url("/memory-bomb"), duration, 200)?;
    storm(&host.url("/trap"), duration, 200)?;
    // Let the last requests of the storms end.
    std::thread::sleep(Duration::from_secs(1));
    let (after_load, pool_after_load) = (mib(host.resident_kib()?), pool_resident(&host)?);
    std::thread::sleep(Duration::from_secs(60));
    let (minute_later, pool_minute_later) = (mib(host.resident_kib()?), pool_resident(&host)?);
    Ok(Memory { idle, after_load, pool_after_load, minute_later, pool_minute_later })
}

impl Memory {
    pub fn summary(&self) -> String {
        format!(
            "idle {:.0}; after the load {:.0} (pool {:.1}); a minute later {:.0} (pool {:.1}) MiB",
            self.idle, self.after_load, self.pool_after_load, self.minute_later, self.pool_minute_later
        )
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// wrk with `connections` connections, whatever the status of the answers.
fn storm(url: &str, duration: &str, connections: u32) -> anyhow::Result<()> {
    let status = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), "-d", duration, url])
        .stdout(std::process::Stdio::null())
        .status()
        .context("failed to run wrk")?;
    anyhow::ensure!(status.success(), "wrk failed on {url}");
    Ok(())
}

/// `joule_pool_idle_resident_bytes` from the admin listener, in MiB.
fn pool_resident(host: &Host) -> anyhow::Result<f64> {
    let (_, metrics) = host.admin("GET", "/metrics", b"")?;
    let value = metrics
        .lines()
        .find_map(|line| line.strip_prefix("joule_pool_idle_resident_bytes "))
        .context("no joule_pool_idle_resident_bytes in /metrics")?;
    Ok(value.trim().parse::<f64>()? / (1024.0 * 1024.0))
}

/// The host's state while idle sockets are held against it.
pub struct Flood {
    pub attempted: usize,
    /// Sockets the host still held open a few seconds after they were made.
    pub held_open: usize,
    pub host_descriptors: usize,
    pub live: String,
    pub ready: String,
    pub metrics: String,
}

impl Flood {
    pub fn summary(&self) -> String {
        format!(
            "{} of {} sockets held open; host holds {} descriptors; /health/live {}, /health/ready {}, admin /metrics {}",
            self.held_open, self.attempted, self.host_descriptors, self.live, self.ready, self.metrics
        )
    }
}

/// The status and time of one probe, or why it failed.
fn timed(call: impl FnOnce() -> anyhow::Result<(u16, String)>) -> String {
    let started = Instant::now();
    match call() {
        Ok((status, _)) => format!("{status} in {:.1} ms", started.elapsed().as_secs_f64() * 1000.0),
        Err(e) => format!("failed after {:.1} s ({e})", started.elapsed().as_secs_f64()),
    }
}

/// Opens up to `sockets` idle connections (as many as this process's descriptors allow),
/// then times the probes on fresh connections.
pub fn flood(host: &Host, sockets: usize) -> anyhow::Result<Flood> {
    let limit = rlimit::increase_nofile_limit(u64::MAX).context("failed to raise the descriptor limit")?;
    let attempted = sockets.min(usize::try_from(limit).unwrap_or(usize::MAX).saturating_sub(200));
    let address = host.address.parse().context("the host's address")?;
    let mut held = Vec::with_capacity(attempted);
    let mut failures = 0;
    // A full accept backlog makes connects wait; give up after 20 have failed.
    while held.len() + failures < attempted && failures < 20 {
        match TcpStream::connect_timeout(&address, Duration::from_secs(1)) {
            Ok(stream) => held.push(stream),
            Err(_) => failures += 1,
        }
    }
    // The host closes what it will not keep; a closed socket reads end of file.
    std::thread::sleep(Duration::from_secs(3));
    let held_open = held.iter().filter(|stream| still_open(stream)).count();
    let host_descriptors = std::fs::read_dir(format!("/proc/{}/fd", host.pid()))?.count();
    let live = timed(|| host.request("GET", "/health/live", None));
    let ready = timed(|| host.request("GET", "/health/ready", None));
    let metrics = timed(|| host.admin("GET", "/metrics", b""));
    drop(held);
    Ok(Flood { attempted, held_open, host_descriptors, live, ready, metrics })
}

fn still_open(stream: &TcpStream) -> bool {
    let _ = stream.set_nonblocking(true);
    let mut byte = [0u8; 1];
    // Nothing to read yet means open; end of file or a reset means the host closed it.
    matches!(stream.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}
