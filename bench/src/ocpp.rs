//! OCPP: a fleet of 1,000 charge points on OCPP 1.6J, each on a WebSocket of its own to the
//! test guest `charge-point` (`tests/manifests/ocpp.toml`), which records every CALL in its
//! database before it answers. Each sends a BootNotification, then a Heartbeat every 5 s; one
//! in ten also sends MeterValues every second. Like a real charge point, each waits for the
//! answer to one CALL before it sends the next, and reads meanwhile, so that the host's pings
//! get their pongs. Measured client-side: how long connecting them all takes, messages
//! answered per second, the time from a CALL to its answer, CALLERRORs (there should be
//! none); and from /proc, the host's resident memory before and with all of them connected.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail, ensure};
use base64::Engine as _;
use chrono::{SecondsFormat, Utc};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::host::Host;

/// Charge points connected at once, and how many handshakes are in flight while they connect.
pub const CHARGE_POINTS: u32 = 1_000;
pub const DIALING: usize = 100;
/// One charge point in this many also sends MeterValues.
pub const METERING_ONE_IN: u32 = 10;
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
pub const METER_VALUES_EVERY: Duration = Duration::from_secs(1);
/// The password every generated charge point has (16 characters at least, as stations asks).
pub const PASSWORD: &str = "bench-secret-0000";
/// A CALL not answered within this long fails the run.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// `BENCH-0000` to `BENCH-0999`.
pub fn charge_point_id(index: u32) -> String {
    format!("BENCH-{index:04}")
}

/// The value of the guest's variable `charge_points` (`JOULE_VARIABLE_CHARGE_POINTS`): every
/// generated charge point, as `id:password` pairs.
pub fn charge_points() -> String {
    (0..CHARGE_POINTS).map(|index| format!("{}:{PASSWORD}", charge_point_id(index))).collect::<Vec<_>>().join(",")
}

pub struct Figures {
    /// From the first handshake to the last BootNotification answered.
    pub connect_all: Duration,
    /// Handshake and BootNotification of one charge point, in milliseconds.
    pub connect_p50_ms: f64,
    pub connect_p99_ms: f64,
    /// CALLs sent and answered within the window, per second, and by action.
    pub answered_per_second: f64,
    pub heartbeats: usize,
    pub meter_values: usize,
    /// From a CALL's sending to its answer's arrival, in milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers within the window that were CALLERRORs, and the first of them.
    pub call_errors: usize,
    pub first_call_error: Option<String>,
    /// The host's resident memory, in MiB: after one charge point came and went (the
    /// component compiled and instantiated), and with all of them connected.
    pub idle_mib: f64,
    pub connected_mib: f64,
}

impl Figures {
    /// What each connection adds to the host's resident memory, in KiB.
    pub fn per_connection_kib(&self) -> f64 {
        (self.connected_mib - self.idle_mib) * 1024.0 / f64::from(CHARGE_POINTS)
    }
}

/// Connects the fleet to `host` (started with [`charge_points`] as its charge points, or
/// provisioned as stations) and measures it for `window` once all of them are connected.
/// With `id_tag`, the metering charge points first start a transaction with it and send
/// their MeterValues for it, with the register going up.
pub fn measure(host: &Host, window: Duration, id_tag: Option<&str>) -> anyhow::Result<Figures> {
    // A descriptor per connection, and some to spare.
    let limit = rlimit::increase_nofile_limit(u64::MAX).context("failed to raise the descriptor limit")?;
    ensure!(
        limit >= u64::from(CHARGE_POINTS) + 100,
        "{CHARGE_POINTS} connections need more descriptors than this process may have ({limit}); raise ulimit -n"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let figures = runtime.block_on(drive(host, window, id_tag.map(str::to_string)));
    // The charge points' tasks are still running; dropping them closes their sockets.
    runtime.shutdown_timeout(Duration::from_secs(5));
    figures
}

/// One CALL's answer, as the charge point saw it.
struct Sample {
    action: &'static str,
    sent: Instant,
    latency: Duration,
    /// The answer was a CALLERROR: the frame, to show.
    error: Option<String>,
}

/// What the charge points' tasks share.
struct Fleet {
    address: String,
    /// The tag the metering charge points start transactions with, if they do.
    id_tag: Option<String>,
    /// The schedules' phases count from here.
    epoch: Instant,
    dialing: Semaphore,
    samples: Mutex<Vec<Sample>>,
}

async fn drive(host: &Host, window: Duration, id_tag: Option<String>) -> anyhow::Result<Figures> {
    // One charge point through each action first, so that the idle figure already holds the
    // compiled component and what its first invocations leave.
    warm_up(&host.address).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_kib = host.resident_kib()?;

    let fleet = Arc::new(Fleet {
        address: host.address.clone(),
        id_tag,
        epoch: Instant::now(),
        dialing: Semaphore::new(DIALING),
        samples: Mutex::new(Vec::with_capacity(64 * 1024)),
    });
    let (booted_sender, mut booted) = mpsc::unbounded_channel();
    let started = Instant::now();
    let tasks: Vec<_> = (0..CHARGE_POINTS)
        .map(|index| tokio::spawn(charge_point(index, Arc::clone(&fleet), booted_sender.clone())))
        .collect();
    drop(booted_sender);
    let mut connects = Vec::with_capacity(CHARGE_POINTS as usize);
    while connects.len() < CHARGE_POINTS as usize {
        match tokio::time::timeout(Duration::from_secs(120), booted.recv()).await {
            Ok(Some(Ok(took))) => connects.push(took),
            Ok(Some(Err(e))) => return Err(e),
            Ok(None) => bail!("the charge points' tasks ended with {} of {CHARGE_POINTS} booted", connects.len()),
            Err(_) => bail!("no charge point booted for 2 minutes, {} of {CHARGE_POINTS} booted", connects.len()),
        }
    }
    let connect_all = started.elapsed();
    // Let the last connections settle before reading the memory.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let connected_kib = host.resident_kib()?;

    let window_start = Instant::now();
    tokio::time::sleep(window).await;
    let window_end = Instant::now();
    // A charge point's task only ends when its connection failed.
    let mut lost = 0;
    let mut first_failure = None;
    for task in tasks {
        if task.is_finished() {
            lost += 1;
            let failure = match task.await {
                Ok(Ok(())) => anyhow!("the charge point stopped"),
                Ok(Err(e)) => e,
                Err(e) => anyhow!("the charge point's task failed: {e}"),
            };
            if first_failure.is_none() {
                first_failure = Some(failure);
            }
        } else {
            task.abort();
        }
    }
    if let Some(failure) = first_failure {
        return Err(failure.context(format!("{lost} of {CHARGE_POINTS} charge points lost their connection")));
    }

    let samples = std::mem::take(&mut *fleet.samples.lock().unwrap_or_else(|e| e.into_inner()));
    let measured: Vec<&Sample> =
        samples.iter().filter(|s| s.sent >= window_start && s.sent + s.latency <= window_end).collect();
    ensure!(!measured.is_empty(), "no CALL was answered within the window");
    let mut latencies: Vec<Duration> = measured.iter().map(|s| s.latency).collect();
    latencies.sort_unstable();
    connects.sort_unstable();
    let errors: Vec<&&Sample> = measured.iter().filter(|s| s.error.is_some()).collect();
    Ok(Figures {
        connect_all,
        connect_p50_ms: percentile_ms(&connects, 0.5),
        connect_p99_ms: percentile_ms(&connects, 0.99),
        answered_per_second: measured.len() as f64 / (window_end - window_start).as_secs_f64(),
        heartbeats: measured.iter().filter(|s| s.action == "Heartbeat").count(),
        meter_values: measured.iter().filter(|s| s.action == "MeterValues").count(),
        p50_ms: percentile_ms(&latencies, 0.5),
        p99_ms: percentile_ms(&latencies, 0.99),
        call_errors: errors.len(),
        first_call_error: errors.first().and_then(|s| s.error.clone()),
        idle_mib: idle_kib as f64 / 1024.0,
        connected_mib: connected_kib as f64 / 1024.0,
    })
}

/// `sorted`'s `p` quantile, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The first BootNotification, Heartbeat and MeterValues, from the first charge point, which
/// then disconnects.
async fn warm_up(address: &str) -> anyhow::Result<()> {
    let mut client = Client::connect(address, &charge_point_id(0)).await?;
    for (action, payload) in [("BootNotification", boot_notification()), ("Heartbeat", json!({})), ("MeterValues", meter_values(1, 0))]
    {
        let answer = client.call(action, payload).await?;
        ensure!(answer.frame[0].as_i64() == Some(3), "warming up, {action} was answered {}", answer.frame);
    }
    let _ = client.socket.close(None).await;
    Ok(())
}

/// With a tag, starts a transaction on connector 1 and returns its id; else the id 1, which
/// the test guest takes as it comes.
async fn start_transaction(client: &mut Client, id_tag: Option<&str>) -> anyhow::Result<i64> {
    let Some(id_tag) = id_tag else { return Ok(1) };
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let payload = json!({ "connectorId": 1, "idTag": id_tag, "meterStart": 0, "timestamp": now });
    let answer = client.call("StartTransaction", payload).await?;
    let accepted = answer.frame[2]["idTagInfo"]["status"] == "Accepted";
    ensure!(answer.frame[0].as_i64() == Some(3) && accepted, "StartTransaction was answered {}", answer.frame);
    answer.frame[2]["transactionId"].as_i64().context("a transactionId")
}

/// One charge point: connects and boots (reporting to `booted`), then sends its Heartbeats
/// and MeterValues until its task is aborted; returns only when something failed.
async fn charge_point(
    index: u32,
    fleet: Arc<Fleet>,
    booted: mpsc::UnboundedSender<anyhow::Result<Duration>>,
) -> anyhow::Result<()> {
    let id = charge_point_id(index);
    let permit = fleet.dialing.acquire().await?;
    let started = Instant::now();
    let connected = async {
        let mut client = Client::connect(&fleet.address, &id).await?;
        let answer = client.call("BootNotification", boot_notification()).await?;
        ensure!(
            answer.frame[0].as_i64() == Some(3) && answer.frame[2]["status"] == "Accepted",
            "{id}: BootNotification was answered {}",
            answer.frame
        );
        anyhow::Ok(client)
    }
    .await;
    drop(permit);
    let mut client = match connected {
        Ok(client) => {
            let _ = booted.send(Ok(started.elapsed()));
            client
        }
        Err(e) => {
            let _ = booted.send(Err(e));
            return Ok(());
        }
    };
    // Phases spread evenly over the period, so that the fleet's CALLs do not come in bursts.
    let now = Instant::now();
    let mut heartbeat = next_after(fleet.epoch + HEARTBEAT_EVERY * index / CHARGE_POINTS, HEARTBEAT_EVERY, now);
    let metering = CHARGE_POINTS / METERING_ONE_IN;
    let mut meter = index.is_multiple_of(METERING_ONE_IN).then(|| {
        let phase = fleet.epoch + METER_VALUES_EVERY * (index / METERING_ONE_IN) / metering;
        next_after(phase, METER_VALUES_EVERY, now)
    });
    let transaction = match meter {
        Some(_) => start_transaction(&mut client, fleet.id_tag.as_deref()).await.with_context(|| format!("{id}: starting"))?,
        None => 0,
    };
    // About 11 kW: 3 Wh a second.
    let mut register_wh = 0;
    loop {
        let due = meter.map_or(heartbeat, |meter| meter.min(heartbeat));
        client.read_until(due).await.with_context(|| format!("{id}: between CALLs"))?;
        let now = Instant::now();
        if now >= heartbeat {
            let sample = client.sample("Heartbeat", json!({})).await.with_context(|| format!("{id}: Heartbeat"))?;
            fleet.samples.lock().unwrap_or_else(|e| e.into_inner()).push(sample);
            // A beat missed while waiting for an answer is skipped, not made up for.
            heartbeat = next_after(heartbeat, HEARTBEAT_EVERY, Instant::now());
        }
        if let Some(due) = meter.filter(|due| now >= *due) {
            register_wh += 3;
            let payload = meter_values(transaction, register_wh);
            let sample = client.sample("MeterValues", payload).await.with_context(|| format!("{id}: MeterValues"))?;
            fleet.samples.lock().unwrap_or_else(|e| e.into_inner()).push(sample);
            meter = Some(next_after(due, METER_VALUES_EVERY, Instant::now()));
        }
    }
}

/// The first of `phase`, `phase + period`, `phase + 2 period`, ... after `now`.
fn next_after(phase: Instant, period: Duration, now: Instant) -> Instant {
    let mut next = phase;
    while next <= now {
        next += period;
    }
    next
}

pub(crate) fn boot_notification() -> Value {
    json!({ "chargePointVendor": "Joule", "chargePointModel": "bench", "firmwareVersion": "1.0" })
}

/// A MeterValues request valid against the OCPP 1.6 schema: the energy register, now.
fn meter_values(transaction_id: i64, register_wh: u64) -> Value {
    json!({
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [{
            "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            "sampledValue": [{ "value": register_wh.to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh" }],
        }],
    })
}

/// A CALL's answer: the frame, when the CALL was sent, and how long the answer took.
pub(crate) struct Answer {
    frame: Value,
    sent: Instant,
    latency: Duration,
}

/// A charge point's connection, at the level of OCPP-J frames.
pub(crate) struct Client {
    pub(crate) socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The last message id used; each CALL takes the next.
    last_id: u64,
}

impl Client {
    /// Connects to `ws://{address}/ocpp/{id}` with OCPP 1.6 and Basic auth.
    pub(crate) async fn connect(address: &str, id: &str) -> anyhow::Result<Client> {
        let url = format!("ws://{address}/ocpp/{id}");
        let mut request = url.as_str().into_client_request()?;
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{PASSWORD}"));
        let headers = request.headers_mut();
        headers.insert("sec-websocket-protocol", HeaderValue::from_static("ocpp1.6"));
        headers.insert("authorization", HeaderValue::from_str(&format!("Basic {credentials}"))?);
        // Nagle off, as the host has it: a frame goes out when it is written.
        let (socket, response) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .with_context(|| format!("{id}: the handshake failed"))?;
        let protocol = response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok());
        ensure!(protocol == Some("ocpp1.6"), "{id}: the host chose the subprotocol {protocol:?}");
        Ok(Client { socket, last_id: 0 })
    }

    /// Sends a CALL and waits for its answer, reading (so answering pings) meanwhile.
    pub(crate) async fn call(&mut self, action: &str, payload: Value) -> anyhow::Result<Answer> {
        self.last_id += 1;
        let id = self.last_id.to_string();
        let text = json!([2, id, action, payload]).to_string();
        let sent = Instant::now();
        self.socket.send(Message::text(text)).await?;
        loop {
            let text = tokio::time::timeout(ANSWER_TIMEOUT, self.next_text())
                .await
                .map_err(|_| anyhow!("{action} was not answered within {ANSWER_TIMEOUT:?}"))??;
            let latency = sent.elapsed();
            let frame: Value = serde_json::from_str(&text).with_context(|| format!("a frame that is not JSON: {text}"))?;
            // The host calls nothing of its own here; anything else than the answer is skipped.
            if frame[1] == id.as_str() && matches!(frame[0].as_i64(), Some(3 | 4)) {
                return Ok(Answer { frame, sent, latency });
            }
        }
    }

    /// [`Client::call`], as a [`Sample`].
    async fn sample(&mut self, action: &'static str, payload: Value) -> anyhow::Result<Sample> {
        let answer = self.call(action, payload).await?;
        let error = (answer.frame[0].as_i64() != Some(3)).then(|| answer.frame.to_string());
        Ok(Sample { action, sent: answer.sent, latency: answer.latency, error })
    }

    /// Reads until `until`, as a live charge point does between CALLs: the host's pings are
    /// answered (tungstenite queues the pong on reading a ping, and sends it on the next read).
    async fn read_until(&mut self, until: Instant) -> anyhow::Result<()> {
        let until = tokio::time::Instant::from_std(until);
        loop {
            match tokio::time::timeout_at(until, self.next_text()).await {
                Err(_) => return Ok(()),
                // Nothing is asked of the charge point here; a CALL of the host's would be skipped.
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => return Err(e),
            }
        }
    }

    /// The next text message; pings and pongs on the way are read past.
    pub(crate) async fn next_text(&mut self) -> anyhow::Result<String> {
        loop {
            match self.socket.next().await {
                Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
                Some(Ok(Message::Close(frame))) => bail!("the host closed the connection: {frame:?}"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).context("reading from the connection"),
                None => bail!("the connection ended"),
            }
        }
    }
}
