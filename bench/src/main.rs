//! `cargo run --release -p joule-bench`: serves the hello component with `joule up`,
//! loads it with wrk (2 threads, 50 connections, 10 s), runs the in-process invocation
//! benchmark, and prints one table. Pass `--quick` for 3-second runs.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

struct Wrk {
    requests_per_second: f64,
    p50: String,
    p99: String,
}

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let duration = if quick { "3s" } else { "10s" };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("bench/ sits in the repository")?.to_path_buf();
    which("wrk").context("wrk is needed: apt-get install wrk")?;

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo).current_dir(&root).args(["build", "--release", "-p", "joule"]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), PathBuf::from);
    let joule = target.join("release/joule");
    let manifest = root.join("bench/hello.toml");
    run(Command::new(&joule).arg("build").arg("-f").arg(&manifest))?;

    let state = std::env::temp_dir().join(format!("joule-bench-{}", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let address = format!("127.0.0.1:{port}");
    let mut server = Command::new(&joule)
        .args(["up", "--listen", &address, "-f"])
        .arg(&manifest)
        .arg("--state-dir")
        .arg(&state)
        .env("JOULE_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("failed to start joule")?;
    let measured = measure_http(&mut server, &address, duration);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&state);
    let wrk = measured?;

    let criterion = Command::new(&cargo)
        .current_dir(&root)
        .args(["bench", "-p", "joule-bench", "--bench", "invocation", "--", "--output-format", "bencher"])
        .stderr(Stdio::inherit())
        .output()
        .context("failed to run cargo bench")?;
    if !criterion.status.success() {
        bail!("the invocation benchmark failed");
    }
    let criterion = String::from_utf8_lossy(&criterion.stdout);

    println!();
    println!("| measure | result |");
    println!("|---|---|");
    println!(
        "| hello component on joule, wrk -t2 -c50 -d{duration} | {:.0} req/s (p50 {}, p99 {}) |",
        wrk.requests_per_second, wrk.p50, wrk.p99
    );
    for (name, nanos) in bencher_lines(&criterion) {
        println!("| {name} (criterion, per invocation) | {:.1} µs |", nanos / 1000.0);
    }
    Ok(())
}

fn measure_http(server: &mut Child, address: &str, duration: &str) -> anyhow::Result<Wrk> {
    wait_ready(server, address)?;
    let url = format!("http://{address}/hello");
    // Warm up: fill the instance pool and the page cache.
    wrk(&url, "2s")?;
    wrk(&url, duration)
}

fn wait_ready(server: &mut Child, address: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if let Some(status) = server.try_wait()? {
            bail!("joule exited ({status}) before it was ready");
        }
        if get_status(address, "/health/ready").is_ok_and(|status| status == 200) {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("joule was not ready within 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A bare HTTP/1.1 GET, enough to poll readiness without an HTTP client dependency.
fn get_status(address: &str, path: &str) -> anyhow::Result<u16> {
    let mut stream = TcpStream::connect(address)?;
    write!(stream, "GET {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).context("no status line")?;
    Ok(status.parse()?)
}

fn wrk(url: &str, duration: &str) -> anyhow::Result<Wrk> {
    let output = Command::new("wrk").args(["-t2", "-c50", "-d", duration, "--latency", url]).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed: {text}");
    }
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        bail!("wrk saw errors:\n{text}");
    }
    let field = |prefix: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix).map(|rest| rest.trim().to_string()))
            .with_context(|| format!("wrk printed no {prefix:?}:\n{text}"))
    };
    Ok(Wrk { requests_per_second: field("Requests/sec:")?.parse()?, p50: field("50%")?, p99: field("99%")? })
}

/// `test <name> ... bench: <n> ns/iter (+/- <d>)` lines from criterion's bencher format.
fn bencher_lines(output: &str) -> Vec<(String, f64)> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test ")?;
            let (name, rest) = rest.split_once(" ... bench:")?;
            let nanos = rest.trim().split_whitespace().next()?.replace(',', "").parse().ok()?;
            Some((name.trim().to_string(), nanos))
        })
        .collect()
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command.status().with_context(|| format!("failed to run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}

fn which(program: &str) -> anyhow::Result<()> {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if !found {
        bail!("{program} is not on PATH");
    }
    Ok(())
}
