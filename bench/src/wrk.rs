//! Load from wrk, with the settings every figure here uses: 2 threads, 50 connections.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};

pub struct Load {
    pub requests_per_second: f64,
    pub p50: String,
    pub p99: String,
}

impl Load {
    pub fn summary(&self) -> String {
        format!("{:.0} req/s (p50 {}, p99 {})", self.requests_per_second, self.p50, self.p99)
    }
}

/// GETs `url`: warms up for 2 seconds, then measures for `duration`.
pub fn measure(url: &str, duration: &str) -> anyhow::Result<Load> {
    measure_script(url, duration, None, None, &[])
}

/// The same, with requests made by a wrk Lua script given `args` and then the run's number
/// (0 warming up, 1 measuring), so a script can keep the two runs' writes apart, and with one
/// more request header (`Authorization: Bearer ...`) on each.
pub fn measure_script(url: &str, duration: &str, script: Option<&Path>, header: Option<&str>, args: &[&str]) -> anyhow::Result<Load> {
    run(url, "2s", script, header, &[args, &["0"]].concat())?;
    run(url, duration, script, header, &[args, &["1"]].concat())
}

fn run(url: &str, duration: &str, script: Option<&Path>, header: Option<&str>, args: &[&str]) -> anyhow::Result<Load> {
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c50", "-d", duration, "--latency"]);
    if let Some(header) = header {
        command.args(["-H", header]);
    }
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).arg("--").args(args).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed: {text}");
    }
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        bail!("wrk saw errors:\n{text}{}", String::from_utf8_lossy(&output.stderr));
    }
    let field = |prefix: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix).map(|rest| rest.trim().to_string()))
            .with_context(|| format!("wrk printed no {prefix:?}:\n{text}"))
    };
    Ok(Load { requests_per_second: field("Requests/sec:")?.parse()?, p50: field("50%")?, p99: field("99%")? })
}

/// Whether wrk is installed.
pub fn available() -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("wrk").is_file()))
}
