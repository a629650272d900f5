//! `wasmtime serve` from the crates.io `wasmtime-cli` at the wasmtime version the host
//! links, with its pooling allocator on: the reference host for the same component.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// The wasmtime version Joule links (see the workspace's Cargo.toml).
const VERSION: &str = "48.0.8";

/// `wasmtime` from `wasmtime-cli` VERSION, installed under `tools` on first use.
pub fn install(cargo: &str, tools: &Path) -> anyhow::Result<PathBuf> {
    let binary = tools.join("bin/wasmtime");
    let installed = Command::new(&binary).arg("--version").output().ok();
    if installed.is_some_and(|out| String::from_utf8_lossy(&out.stdout).contains(VERSION)) {
        return Ok(binary);
    }
    eprintln!("installing wasmtime-cli {VERSION} into {} (once; a few minutes)", tools.display());
    let status = Command::new(cargo)
        .args(["install", "wasmtime-cli", "--locked", "--version", VERSION, "--root"])
        .arg(tools)
        .status()
        .context("failed to run cargo install wasmtime-cli")?;
    if !status.success() {
        bail!("cargo install wasmtime-cli {VERSION} failed ({status})");
    }
    Ok(binary)
}

/// A running `wasmtime serve`; killed when dropped.
pub struct Serve {
    child: Child,
    pub address: String,
}

impl Serve {
    /// Serves `wasm` with the pooling allocator and WASI's CLI interfaces (which spin-sdk
    /// components import), and waits until it accepts connections.
    pub fn start(wasmtime: &Path, wasm: &Path) -> anyhow::Result<Self> {
        let address = format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port());
        let child = Command::new(wasmtime)
            .args(["serve", "--addr", &address, "-O", "pooling-allocator=y", "-S", "cli=y"])
            .arg(wasm)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to start wasmtime serve")?;
        let mut serve = Self { child, address };
        let started = Instant::now();
        while std::net::TcpStream::connect(&serve.address).is_err() {
            if let Some(status) = serve.child.try_wait()? {
                bail!("wasmtime serve exited ({status}) before it listened");
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("wasmtime serve did not listen within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(serve)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
