//! `cargo run --release -p joule-bench`: measures Joule and prints one table.
//!
//! - `hello`: the hello component under wrk (2 threads, 50 connections), beside the same
//!   component on `wasmtime serve` (crates.io `wasmtime-cli` at the linked wasmtime version,
//!   pooling on, installed under `target/bench-tools` on first run) and a native hyper hello
//!   (`src/bin/native-hello.rs`), under the same load in the same run;
//! - `platform`: idle resident memory with every EV component loaded, then
//!   `GET /api/v1/stations/{id}` without and with a verified bearer token, and
//!   `POST /api/v1/pricing/quote`, on SQLite;
//! - `postgres`: `GET /api/v1/stations/{id}` and `POST /api/v1/reservations` on Postgres, each
//!   reservation booking a slot of its own (wrk Lua scripts in `bench/wrk/`);
//! - `events`: events per second from publish to the handler's commit, embedded and on
//!   RabbitMQ, Postgres and Redis, beside a plain lapin publish and consume-and-ack loop on
//!   the same broker and a plain Postgres loop of the transaction each event commits;
//! - `timers`: timers scheduled per second with none and with 100,000 pending, and a burst
//!   due in the same second, with none and with 100,000 pending: delivered per second, and
//!   how late (p50, p99), embedded and on Postgres;
//! - `swap`: from a deploy call to the first request served by the new version, on the
//!   replica that took it and on a second sharing its Postgres, cold and cached compile;
//! - `ocpp`: 1,000 OCPP 1.6 charge points on WebSockets to the test guest `charge-point`
//!   (embedded), each beating every 5 s and one in ten sending MeterValues every second: how
//!   long connecting them all takes, messages answered per second, CALL to answer (p50, p99),
//!   CALLERRORs, and the host's resident memory per connection; then the same fleet against
//!   the EV platform's components (`spin.toml`): stations answering boots and heartbeats,
//!   reservations recording the meter values of 100 open transactions;
//! - `ocpp-calls`: remote starts made on one replica to 100 charge points connected to the
//!   other, on RabbitMQ, Postgres and Redis: from the POST to the charge point receiving the
//!   CALL and to the result's handler (p50, p99) at 50 calls/s, and round trips per second
//!   for a burst;
//! - `webhooks`: events delivered per second by the webhook channel to one registered
//!   endpoint (a local hyper receiver), on RabbitMQ, Postgres and Redis;
//! - `reports`: events per second the reports component ingests (completed sessions and
//!   their invoices, put on its queue), on RabbitMQ, Postgres and Redis;
//! - `criterion`: the in-process cost of one invocation;
//! - `memory` and `connections`: see `pressure.rs`.
//!
//! With no section named, all of them run. `--quick` measures for 3 seconds instead of 10,
//! and fewer events. `JOULE_BENCH_JOULE` names another `joule` binary to measure instead of
//! this checkout's, for a before-and-after on one machine. Postgres comes from
//! `JOULE_BENCH_DATABASE_URL`, RabbitMQ from `JOULE_BENCH_AMQP_URL` and Redis from
//! `JOULE_BENCH_REDIS_URL` (default: the local servers); a fresh database, queue namespace and
//! key prefix are created, and removed afterwards (the database with its component roles).

mod database;
mod events;
mod host;
mod identity;
mod inject;
mod ocpp;
mod ocpp_calls;
mod ocpp_platform;
mod pressure;
mod reports;
mod services;
mod swap;
mod timers;
mod wasmtime_serve;
mod webhooks;
mod wrk;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};

use database::FreshDatabase;
use host::Host;
use services::Services;

#[derive(Parser)]
#[command(about = "Measures Joule beside wasmtime serve, native hyper and plain lapin, and prints one table")]
struct Args {
    /// Measure for 3 seconds instead of 10, with fewer events and deploys.
    #[arg(long)]
    quick: bool,
    /// The sections to run, in the order given; all of them when none is named.
    #[arg(value_enum)]
    sections: Vec<Section>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    Hello,
    Platform,
    Postgres,
    Events,
    Timers,
    Swap,
    Ocpp,
    OcppCalls,
    Webhooks,
    Reports,
    Criterion,
    Memory,
    Connections,
}

/// What every section needs: where things are, how long to measure, and the table so far.
struct Bench {
    root: PathBuf,
    cargo: String,
    target: PathBuf,
    joule: PathBuf,
    quick: bool,
    duration: &'static str,
    rows: Vec<(String, String)>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !wrk::available() {
        bail!("wrk is needed: apt-get install wrk");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("bench/ sits in the repository")?.to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo).current_dir(&root).args(["build", "--release", "-p", "joule", "-p", "joule-bench"]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), PathBuf::from);
    // Another build of joule, to set beside this one: the same sections, the same machine.
    let joule = std::env::var_os("JOULE_BENCH_JOULE").map_or_else(|| target.join("release/joule"), PathBuf::from);
    let duration = if args.quick { "3s" } else { "10s" };
    let mut bench = Bench { root, cargo, target, joule, quick: args.quick, duration, rows: Vec::new() };
    let sections = if args.sections.is_empty() { Section::value_variants().to_vec() } else { args.sections };
    for section in sections {
        match section {
            Section::Hello => bench.hello()?,
            Section::Platform => bench.platform()?,
            Section::Postgres => bench.postgres()?,
            Section::Events => bench.events()?,
            Section::Timers => bench.timers()?,
            Section::Swap => bench.swap()?,
            Section::Ocpp => bench.ocpp()?,
            Section::OcppCalls => bench.ocpp_calls()?,
            Section::Webhooks => bench.webhooks()?,
            Section::Reports => bench.reports()?,
            Section::Criterion => bench.criterion()?,
            Section::Memory => bench.memory()?,
            Section::Connections => bench.connections()?,
        }
    }
    println!("\n| measure | result |\n|---|---|");
    for (measure, result) in &bench.rows {
        println!("| {measure} | {result} |");
    }
    Ok(())
}

impl Bench {
    fn row(&mut self, measure: impl Into<String>, result: impl Into<String>) {
        self.rows.push((measure.into(), result.into()));
    }

    /// Builds the components `manifest` lists, and returns its path.
    fn manifest(&self, relative: &str) -> anyhow::Result<PathBuf> {
        let manifest = self.root.join(relative);
        run(Command::new(&self.joule).arg("build").arg("-f").arg(&manifest))?;
        Ok(manifest)
    }

    fn hello(&mut self) -> anyhow::Result<()> {
        let duration = self.duration;
        let host = Host::start(&self.joule, &self.manifest("bench/hello.toml")?, &[])?;
        let on_joule = wrk::measure(&host.url("/hello"), duration)?;
        drop(host);
        let wasmtime = wasmtime_serve::install(&self.cargo, &self.target.join("bench-tools"))?;
        let wasm = self.root.join("tests/guests/target/wasm32-wasip2/release/hello.wasm");
        let serve = wasmtime_serve::Serve::start(&wasmtime, &wasm)?;
        let on_wasmtime = wrk::measure(&format!("http://{}/hello", serve.address), duration)?;
        drop(serve);
        let native = native_hello(&self.target, duration)?;
        self.row(format!("hello component, wrk -t2 -c50 -d{duration}"), on_joule.summary());
        self.row("same component on wasmtime serve (pooling), same load", on_wasmtime.summary());
        let ratio = on_joule.requests_per_second / on_wasmtime.requests_per_second;
        self.row("hello component: Joule / wasmtime serve", format!("{ratio:.2}x"));
        self.row("native hyper hello, same load", native.summary());
        let share = 100.0 * on_joule.requests_per_second / native.requests_per_second;
        self.row("hello component / native hyper", format!("{share:.0}%"));
        Ok(())
    }

    fn platform(&mut self) -> anyhow::Result<()> {
        let host = Host::start(&self.joule, &self.manifest("spin.toml")?, &[])?;
        std::thread::sleep(std::time::Duration::from_secs(2));
        let resident = host.resident_kib()? as f64 / 1024.0;
        self.row("idle resident memory, EV platform (all components loaded, embedded)", format!("{resident:.1} MiB"));
        let url = station_url(&host, &self.joule)?;
        // The route is auth = "optional": the same request without and with a token to verify,
        // taking turns so that drift over the run weighs on both alike.
        let bearer = format!("Authorization: Bearer {}", host.token(&self.joule, "bench-driver", &["driver"])?);
        let (mut anonymous, mut verified) = (Vec::new(), Vec::new());
        for _ in 0..2 {
            anonymous.push(wrk::measure(&url, self.duration)?);
            verified.push(wrk::measure_script(&url, self.duration, None, Some(&bearer), &[])?);
        }
        let mean = |loads: &[wrk::Load]| loads.iter().map(|l| l.requests_per_second).sum::<f64>() / loads.len() as f64;
        self.row("GET /api/v1/stations/{id}, SQLite", anonymous[1].summary());
        self.row("GET /api/v1/stations/{id}, SQLite, with a verified token", verified[1].summary());
        let cost = 100.0 * (1.0 - mean(&verified) / mean(&anonymous));
        self.row("throughput lost to token verification (mean of two turns each)", format!("{cost:.1}%"));
        let (first, again) = identity::verification_cost()?;
        self.row("verifying a token in process, EdDSA: first sight / seen before", format!("{first:.1} µs / {again:.2} µs"));
        let quote = self.root.join("bench/wrk/quote.lua");
        let load = wrk::measure_script(&host.url("/api/v1/pricing/quote"), self.duration, Some(&quote), None, &[])?;
        let summary = format!("{:.0} quotes/s (p99 {})", load.requests_per_second, load.p99);
        self.row("POST /api/v1/pricing/quote, ocpi rule, worked example", summary);
        Ok(())
    }

    fn postgres(&mut self) -> anyhow::Result<()> {
        let platform = self.manifest("spin.toml")?;
        let database = FreshDatabase::create()?;
        let host = Host::start(&self.joule, &platform, &[("DATABASE_URL", database.url.clone())])?;
        let url = station_url(&host, &self.joule)?;
        self.row("GET /api/v1/stations/{id}, Postgres", wrk::measure(&url, self.duration)?.summary());
        let station = url.rsplit('/').next().context("a station URL")?.to_string();
        let reserve = self.root.join("bench/wrk/reserve.lua");
        // The reservations component learns of the station from its event.
        std::thread::sleep(std::time::Duration::from_secs(2));
        let reservations = host.url("/api/v1/reservations");
        // An operator, who may book for each of the script's drivers.
        let operator = format!("Authorization: Bearer {}", host.token(&self.joule, "bench-operator", &["operator"])?);
        let load = wrk::measure_script(&reservations, self.duration, Some(&reserve), Some(&operator), &[&station, "20"])?;
        self.row("POST /api/v1/reservations, Postgres, 20 connectors", load.summary());
        Ok(())
    }

    fn events(&mut self) -> anyhow::Result<()> {
        let manifest = self.manifest("tests/manifests/events.toml")?;
        let total = if self.quick { 2_000 } else { 10_000 };
        let host = Host::start(&self.joule, &manifest, &[])?;
        let embedded = events::pipeline(&host, total)?;
        drop(host);
        self.row(format!("events end to end, embedded ({total} events)"), format!("{embedded:.0} events/s"));
        // The services a production deployment runs with: the recorder's key-value writes
        // go to Redis, not to the embedded store.
        let services = Services::create()?;
        let host = Host::start(&self.joule, &manifest, &services.env())?;
        let rabbit = events::pipeline(&host, total)?;
        drop(host);
        let amqp_url = services.amqp_url.clone();
        services.remove()?;
        let plain = events::plain_lapin(&amqp_url, total)?;
        let transactions = events::plain_postgres(&FreshDatabase::create()?.url, total)?;
        self.row(format!("events end to end, RabbitMQ + Postgres + Redis ({total} events)"), format!("{rabbit:.0} events/s"));
        self.row("plain lapin publish + consume-and-ack, same RabbitMQ", format!("{plain:.0} messages/s"));
        self.row("events on RabbitMQ / plain lapin", format!("{:.0}%", 100.0 * rabbit / plain));
        self.row(
            format!("plain Postgres loop of an event's transaction (inbox, row, COMMIT; {} clients)", events::POSTGRES_CLIENTS),
            format!("{transactions:.0} transactions/s; events at {:.0}% of it", 100.0 * rabbit / transactions),
        );
        Ok(())
    }

    fn timers(&mut self) -> anyhow::Result<()> {
        let manifest = self.manifest("tests/manifests/timers.toml")?;
        let burst = if self.quick { 2_000 } else { 10_000 };
        let embedded = Host::start(&self.joule, &manifest, &[])?;
        let on_sqlite = timers::measure(&embedded, burst)?;
        drop(embedded);
        let database = FreshDatabase::create()?;
        let postgres = Host::start(&self.joule, &manifest, &[("DATABASE_URL", database.url.clone())])?;
        let on_postgres = timers::measure(&postgres, burst)?;
        drop(postgres);
        let pending = timers::PENDING;
        for (backend, figures) in [("embedded", on_sqlite), ("Postgres", on_postgres)] {
            self.row(
                format!("timers scheduled, 500 per request, {backend}: none pending / {pending} pending"),
                format!("{:.0} / {:.0} timers/s", figures.scheduled_empty, figures.scheduled_full),
            );
            let bursts = [
                ("none pending", &figures.burst_empty),
                ("none pending, once more", &figures.burst_empty_again),
                ("100,000 pending, right after scheduling them", &figures.burst_full),
                ("100,000 pending, once more", &figures.burst_full_again),
            ];
            for (when, burst_figures) in bursts {
                self.row(
                    format!("{burst} timers due in one second, {when}, {backend}"),
                    format!(
                        "{:.0} fired/s; late p50 {:.0} ms, p99 {:.0} ms",
                        burst_figures.fired, burst_figures.p50_ms, burst_figures.p99_ms
                    ),
                );
            }
        }
        Ok(())
    }

    fn swap(&mut self) -> anyhow::Result<()> {
        let guests = self.manifest("tests/manifests/guests.toml")?;
        let (v1, v2) = swap::guest_versions(&self.root)?;
        let database = FreshDatabase::create()?;
        let shared = [("DATABASE_URL", database.url.clone()), ("JOULE_VARIABLE_API_TOKEN", "bench".to_string())];
        let a = Host::start(&self.joule, &guests, &shared)?;
        let b = Host::start(&self.joule, &guests, &shared)?;
        let rounds = if self.quick { 4 } else { 10 };
        let cold = swap::measure(&a, &b, &v1, &v2, rounds, true)?;
        let cached = swap::measure(&a, &b, &v1, &v2, rounds, false)?;
        drop((a, b));
        self.row(format!("hot swap, cold compile ({rounds} deploys)"), cold.summary());
        self.row(format!("hot swap, cached compile ({rounds} deploys)"), cached.summary());
        Ok(())
    }

    fn ocpp(&mut self) -> anyhow::Result<()> {
        let window = std::time::Duration::from_secs(if self.quick { 3 } else { 10 });
        let manifest = self.manifest("tests/manifests/ocpp.toml")?;
        // The generated fleet instead of the tests' two charge points; pings and the idle
        // timeout as they are by default.
        let host = Host::start(&self.joule, &manifest, &[("JOULE_VARIABLE_CHARGE_POINTS", ocpp::charge_points())])?;
        let figures = ocpp::measure(&host, window, None)?;
        drop(host);
        self.ocpp_rows("the test guest charge-point", &figures);

        let platform = self.manifest("spin.toml")?;
        let host = Host::start(&self.joule, &platform, &[])?;
        let provisioning = ocpp_platform::provision(&host, &self.joule)?;
        self.row(
            format!("OCPP, EV platform: {} stations with charge point and password created", ocpp::CHARGE_POINTS),
            format!("{:.1} s (a password is an argon2id hash)", provisioning.as_secs_f64()),
        );
        let figures = ocpp::measure(&host, window, Some(ocpp_platform::ID_TAG))?;
        drop(host);
        self.ocpp_rows("the EV platform (stations; reservations for transactions)", &figures);
        Ok(())
    }

    fn ocpp_calls(&mut self) -> anyhow::Result<()> {
        let window = std::time::Duration::from_secs(if self.quick { 3 } else { 10 });
        let burst = if self.quick { 500 } else { 2_000 };
        let manifest = self.manifest("tests/manifests/ocpp.toml")?;
        let services = Services::create()?;
        let mut env = services.env();
        env.push(("JOULE_VARIABLE_CHARGE_POINTS", ocpp::charge_points()));
        let a = Host::start(&self.joule, &manifest, &env)?;
        let b = Host::start(&self.joule, &manifest, &env)?;
        let figures = ocpp_calls::measure(&a, &b, window, burst)?;
        drop((a, b));
        services.remove()?;
        let fleet = ocpp_calls::CHARGE_POINTS;
        self.row(
            format!(
                "OCPP calls across replicas: RemoteStartTransaction made on B to {fleet} charge points on A, {}/s for {}, RabbitMQ + Postgres + Redis",
                ocpp_calls::PACED_PER_SECOND,
                self.duration
            ),
            format!(
                "{} calls; POST to the charge point p50 {:.1} ms, p99 {:.1} ms; POST to the result's handler p50 {:.1} ms, p99 {:.1} ms",
                figures.paced_calls, figures.delivered_p50_ms, figures.delivered_p99_ms, figures.round_trip_p50_ms, figures.round_trip_p99_ms
            ),
        );
        self.row(
            format!("OCPP calls across replicas: a burst of {} remote starts, as fast as 16 clients POST them", figures.burst_calls),
            format!(
                "{:.0} round trips/s (first POST to last result handled); round trip p99 {:.0} ms; not Accepted: {}",
                figures.burst_per_second, figures.burst_round_trip_p99_ms, figures.not_accepted
            ),
        );
        Ok(())
    }

    fn webhooks(&mut self) -> anyhow::Result<()> {
        let total = if self.quick { 1_000 } else { 5_000 };
        let manifest = self.manifest("spin.toml")?;
        let services = Services::create()?;
        let host = Host::start(&self.joule, &manifest, &services.env())?;
        let operator = host.token(&self.joule, "bench-operator", &["operator"])?;
        let exchange = format!("{}.events", services.namespace);
        let figures = webhooks::measure(&host, &operator, &services.amqp_url, &exchange, total)?;
        drop(host);
        services.remove()?;
        self.row(
            format!("webhook channel: {} events to one endpoint, signed, RabbitMQ + Postgres + Redis", figures.delivered),
            format!("{:.0} deliveries/s (first publish to last received); repeats: {}", figures.per_second, figures.repeats),
        );
        Ok(())
    }

    fn reports(&mut self) -> anyhow::Result<()> {
        let sessions = if self.quick { 1_000 } else { 5_000 };
        let manifest = self.manifest("spin.toml")?;
        let services = Services::create()?;
        let host = Host::start(&self.joule, &manifest, &services.env())?;
        let queue = format!("{}.ev-platform.reports", services.namespace);
        let rate = reports::measure(&host, &services.amqp_url, &queue, sessions)?;
        drop(host);
        services.remove()?;
        self.row(
            format!("reports ingestion: {sessions} completed sessions and their invoices on 20 stations, RabbitMQ + Postgres + Redis"),
            format!("{rate:.0} events/s (first publish to last committed)"),
        );
        Ok(())
    }

    fn ocpp_rows(&mut self, handler: &str, figures: &ocpp::Figures) {
        let (fleet, metering) = (ocpp::CHARGE_POINTS, ocpp::CHARGE_POINTS / ocpp::METERING_ONE_IN);
        let offered = f64::from(fleet) / ocpp::HEARTBEAT_EVERY.as_secs_f64()
            + f64::from(metering) / ocpp::METER_VALUES_EVERY.as_secs_f64();
        self.row(
            format!("OCPP 1.6 to {handler}: {fleet} charge points connected and booted, {} handshakes at a time, embedded", ocpp::DIALING),
            format!(
                "{:.2} s in all; handshake + BootNotification p50 {:.1} ms, p99 {:.1} ms",
                figures.connect_all.as_secs_f64(),
                figures.connect_p50_ms,
                figures.connect_p99_ms
            ),
        );
        self.row(
            format!(
                "OCPP 1.6 to {handler}, {fleet} connected: Heartbeat every {:?} each, MeterValues every {:?} from {metering}, {}",
                ocpp::HEARTBEAT_EVERY,
                ocpp::METER_VALUES_EVERY,
                self.duration
            ),
            format!(
                "{:.0} answered/s of {offered:.0} offered ({} Heartbeats, {} MeterValues); CALL to answer p50 {:.1} ms, p99 {:.1} ms",
                figures.answered_per_second, figures.heartbeats, figures.meter_values, figures.p50_ms, figures.p99_ms
            ),
        );
        let errors = match &figures.first_call_error {
            Some(first) => format!("{}, the first: {first}", figures.call_errors),
            None => figures.call_errors.to_string(),
        };
        self.row(format!("OCPP CALLERRORs among those answers, {handler} (expected 0)"), errors);
        self.row(
            format!("joule resident memory, OCPP to {handler}: one charge point came and went / {fleet} connected"),
            format!(
                "{:.1} / {:.1} MiB: {:.0} KiB per connection",
                figures.idle_mib,
                figures.connected_mib,
                figures.per_connection_kib()
            ),
        );
    }

    fn memory(&mut self) -> anyhow::Result<()> {
        let guests = self.manifest("tests/manifests/guests.toml")?;
        let token = ("JOULE_VARIABLE_API_TOKEN", "bench".to_string());
        let bounded = pressure::memory(&self.joule, &guests, &[token.clone()], self.duration)?;
        // Enough budget for every slot to keep 8 MiB, the most it may: as before the budget.
        let unbounded = [token, ("JOULE_POOL_RESIDENT_BUDGET", "20GiB".to_string())];
        let unbounded = pressure::memory(&self.joule, &guests, &unbounded, self.duration)?;
        let load = format!("hello at -c1000, memory bombs and traps at -c200, {} each", self.duration);
        self.row(format!("resident memory, {load}; default pool budget (256 MiB)"), bounded.summary());
        self.row("the same, slots keeping up to 8 MiB each", unbounded.summary());
        Ok(())
    }

    fn connections(&mut self) -> anyhow::Result<()> {
        let guests = self.manifest("tests/manifests/guests.toml")?;
        let token = ("JOULE_VARIABLE_API_TOKEN", "bench".to_string());
        let host = Host::start(&self.joule, &guests, &[token.clone()])?;
        let flood = pressure::flood(&host, 20_000)?;
        self.row("20,000 idle sockets opened against the public listener, defaults", flood.summary());
        drop(host);
        // With the header timeout out of the way, only the connection cap bounds them.
        let host = Host::start(&self.joule, &guests, &[token, ("JOULE_HEADER_TIMEOUT", "10min".to_string())])?;
        let flood = pressure::flood(&host, 20_000)?;
        self.row("the same, --header-timeout 10min: only the cap (10,000) bounds them", flood.summary());
        Ok(())
    }

    fn criterion(&mut self) -> anyhow::Result<()> {
        // The benchmark loads the hello component's manifest itself.
        self.manifest("bench/hello.toml")?;
        let criterion = Command::new(&self.cargo)
            .current_dir(&self.root)
            .args(["bench", "-p", "joule-bench", "--bench", "invocation", "--", "--output-format", "bencher"])
            .stderr(Stdio::inherit())
            .output()
            .context("failed to run cargo bench")?;
        if !criterion.status.success() {
            bail!("the invocation benchmark failed");
        }
        for (name, nanos) in bencher_lines(&String::from_utf8_lossy(&criterion.stdout)) {
            self.row(format!("{name} (criterion, per invocation)"), format!("{:.1} µs", nanos / 1000.0));
        }
        Ok(())
    }
}

/// Loads the native hyper hello, built beside this binary, as the hello component is loaded.
fn native_hello(target: &Path, duration: &str) -> anyhow::Result<wrk::Load> {
    let address = format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port());
    let mut server = Command::new(target.join("release/native-hello"))
        .arg(&address)
        .spawn()
        .context("failed to start native-hello (cargo build --release -p joule-bench)")?;
    std::thread::sleep(std::time::Duration::from_millis(300));
    let load = wrk::measure(&format!("http://{address}/hello"), duration);
    let _ = server.kill();
    let _ = server.wait();
    load
}

/// Creates a station to read, as an operator, and returns its URL.
fn station_url(host: &Host, joule: &Path) -> anyhow::Result<String> {
    let station = serde_json::json!({
        "name": "Benchmark Hub", "location": { "lat": 52.37, "lng": 4.89 }, "timeZone": "Europe/Amsterdam",
        "connectors": (1..=20).map(|n| serde_json::json!({ "connectorId": n.to_string(), "type": "CCS2", "maxPowerKw": 150 }))
            .collect::<Vec<_>>()
    });
    let operator = host.token(joule, "bench-operator", &["operator"])?;
    let (status, body) = host.request_as(&operator, "POST", "/api/v1/stations", &station)?;
    if status != 201 {
        bail!("creating the station failed ({status}): {body}");
    }
    let created: serde_json::Value = serde_json::from_str(&body)?;
    let id = created["id"].as_str().context("the station has an id")?;
    Ok(host.url(&format!("/api/v1/stations/{id}")))
}

/// `test <name> ... bench: <n> ns/iter (+/- <d>)` lines from criterion's bencher format.
fn bencher_lines(output: &str) -> Vec<(String, f64)> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test ")?;
            let (name, rest) = rest.split_once(" ... bench:")?;
            let nanos = rest.split_whitespace().next()?.replace(',', "").parse().ok()?;
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
