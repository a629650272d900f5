//! Calls to charge points across two replicas, on RabbitMQ, Postgres and Redis: 100 OCPP
//! 1.6 charge points hold their connections on replica A, and remote starts are made
//! through replica B (the test guest `caller`, `POST /caller/calls`). Each call commits
//! with B's unit of work, is relayed to the replicas' shared queue, taken by either of them
//! (B forwards what it takes to A's own queue), sent by A, answered `Accepted` by the
//! charge point, and its result delivered to `caller`'s handler. Measured: from the POST to
//! the charge point receiving the CALL, and to the result's handler (p50, p99), at a paced
//! rate; and round trips per second for a burst sent as fast as the POSTs go.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use futures::SinkExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::host::Host;
use crate::ocpp::{Client, boot_notification, charge_point_id};

pub const CHARGE_POINTS: u32 = 100;
/// The paced phase's rate.
pub const PACED_PER_SECOND: u32 = 50;
/// POSTs in flight at once in the burst.
const BURST_WORKERS: usize = 16;

pub struct Figures {
    pub paced_calls: usize,
    pub delivered_p50_ms: f64,
    pub delivered_p99_ms: f64,
    pub round_trip_p50_ms: f64,
    pub round_trip_p99_ms: f64,
    pub burst_calls: usize,
    pub burst_per_second: f64,
    pub burst_round_trip_p99_ms: f64,
    pub not_accepted: usize,
}

fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// When each charge point received the CALL for a tag, in microseconds since the epoch.
type Received = Arc<Mutex<HashMap<String, i64>>>;

pub fn measure(a: &Host, b: &Host, window: Duration, burst: usize) -> anyhow::Result<Figures> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let received: Received = Arc::default();
    runtime.block_on(connect_fleet(&a.address, received.clone()))?;
    // The paced phase: one call every 1/rate, for the window.
    let mut paced = Vec::new();
    let every = Duration::from_secs(1) / PACED_PER_SECOND;
    let started = Instant::now();
    let mut next = started;
    let mut sequence = 0u32;
    while started.elapsed() < window {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        paced.push(post(b, sequence)?);
        sequence += 1;
        next += every;
    }
    let paced_results = wait_for(b, paced.len(), Duration::from_secs(60))?;
    // The burst: as fast as BURST_WORKERS can POST.
    let burst_started = now_us();
    let sent: Vec<(String, String, i64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..BURST_WORKERS)
            .map(|worker| {
                scope.spawn(move || {
                    let mine = (0..burst).filter(|n| n % BURST_WORKERS == worker);
                    mine.map(|n| post(b, sequence + u32::try_from(n).unwrap_or(u32::MAX))).collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a POST worker panicked")).collect::<anyhow::Result<Vec<Vec<_>>>>()
    })?
    .into_iter()
    .flatten()
    .collect();
    let all = wait_for(b, paced.len() + sent.len(), Duration::from_secs(120))?;
    runtime.shutdown_timeout(Duration::from_secs(5));

    let received = received.lock().expect("not poisoned");
    let latencies = |calls: &[(String, String, i64)], results: &HashMap<String, (i64, bool)>| {
        let mut delivered = Vec::new();
        let mut round_trips = Vec::new();
        for (request_id, tag, posted) in calls {
            if let Some(at) = received.get(tag) {
                delivered.push(ms(at - posted));
            }
            if let Some((handled, _)) = results.get(request_id) {
                round_trips.push(ms(handled - posted));
            }
        }
        (delivered, round_trips)
    };
    let (mut delivered, mut round_trips) = latencies(&paced, &paced_results);
    let (_, mut burst_round_trips) = latencies(&sent, &all);
    let last = sent.iter().filter_map(|(id, _, _)| all.get(id).map(|(handled, _)| *handled)).max().unwrap_or(burst_started);
    let not_accepted = all.values().filter(|(_, accepted)| !accepted).count();
    Ok(Figures {
        paced_calls: paced.len(),
        delivered_p50_ms: percentile(&mut delivered, 0.50),
        delivered_p99_ms: percentile(&mut delivered, 0.99),
        round_trip_p50_ms: percentile(&mut round_trips, 0.50),
        round_trip_p99_ms: percentile(&mut round_trips, 0.99),
        burst_calls: sent.len(),
        burst_per_second: sent.len() as f64 / ((last - burst_started) as f64 / 1e6),
        burst_round_trip_p99_ms: percentile(&mut burst_round_trips, 0.99),
        not_accepted,
    })
}

fn ms(micros: i64) -> f64 {
    micros as f64 / 1000.0
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 * p).ceil() as usize).clamp(1, values.len()) - 1]
}

/// A remote start for the tag `T<sequence>` to one of the fleet: its request id, tag, and when it was posted.
fn post(b: &Host, sequence: u32) -> anyhow::Result<(String, String, i64)> {
    let tag = format!("T{sequence}");
    let body = json!({
        "chargePointId": charge_point_id(sequence % CHARGE_POINTS),
        "action": "RemoteStartTransaction",
        "payload": { "idTag": tag, "connectorId": 1 },
    });
    let posted = now_us();
    let (status, answer) = b.request("POST", "/caller/calls", Some(&body))?;
    if status != 202 {
        bail!("POST /caller/calls answered {status}: {answer}");
    }
    let answer: Value = serde_json::from_str(&answer)?;
    Ok((answer["requestId"].as_str().context("a request id")?.to_string(), tag, posted))
}

/// The results, once `count` are in: request id to (handled at, accepted).
fn wait_for(b: &Host, count: usize, within: Duration) -> anyhow::Result<HashMap<String, (i64, bool)>> {
    let started = Instant::now();
    loop {
        let (status, body) = b.request("GET", "/caller/results", None)?;
        if status != 200 {
            bail!("GET /caller/results answered {status}: {body}");
        }
        let results: Vec<Value> = serde_json::from_str(&body)?;
        if results.len() >= count {
            return Ok(results
                .iter()
                .map(|r| {
                    let accepted = r["result"]["status"] == "result" && r["result"]["payload"]["status"] == "Accepted";
                    (r["result"]["requestId"].as_str().unwrap_or_default().to_string(), (r["handledUs"].as_i64().unwrap_or(0), accepted))
                })
                .collect());
        }
        if started.elapsed() > within {
            bail!("{} of {count} results after {within:?}", results.len());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Connects and boots the fleet on `address`; each charge point then answers every CALL
/// `Accepted` and notes when it came.
async fn connect_fleet(address: &str, received: Received) -> anyhow::Result<()> {
    for index in 0..CHARGE_POINTS {
        let mut client = Client::connect(address, &charge_point_id(index)).await?;
        client.call("BootNotification", boot_notification()).await?;
        let received = received.clone();
        tokio::spawn(async move {
            while let Ok(text) = client.next_text().await {
                let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                if frame[0] != 2 {
                    continue;
                }
                if let Some(tag) = frame[3]["idTag"].as_str() {
                    received.lock().expect("not poisoned").insert(tag.to_string(), now_us());
                }
                let answer = json!([3, frame[1], { "status": "Accepted" }]).to_string();
                if client.socket.send(Message::text(answer)).await.is_err() {
                    return;
                }
            }
        });
    }
    Ok(())
}
