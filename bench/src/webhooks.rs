//! The webhook channel's delivered events per second, on RabbitMQ, Postgres and Redis: an
//! operator registers one endpoint for `charger.offline.v1`; that many events are put on the
//! events exchange at once; the notifications component fans each out to a delivery and
//! POSTs it, signed, to a local receiver (hyper, answering 204). Measured from the first
//! publish to the last delivery received, with repeats of a delivery counted apart.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;

use crate::host::Host;
use crate::inject;

pub struct Figures {
    pub delivered: usize,
    pub per_second: f64,
    pub repeats: usize,
}

/// The deliveries a receiver saw: the `webhook-id` of each request.
type Seen = Arc<Mutex<Vec<String>>>;

/// Accepts POSTs on a free local port until the runtime ends; returns its address.
async fn receiver(seen: Seen) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let id = request.headers().get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                    seen.lock().expect("seen").push(id);
                    async { Ok::<_, Infallible>(hyper::Response::builder().status(204).body(Full::new(Bytes::new())).expect("a response")) }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(address)
}

pub fn measure(host: &Host, operator: &str, amqp_url: &str, exchange: &str, total: usize) -> anyhow::Result<Figures> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let seen: Seen = Arc::default();
    let address = runtime.block_on(receiver(seen.clone()))?;
    let endpoint = json!({ "url": format!("http://{address}/joule"), "eventTypes": ["charger.offline.v1"] });
    let (status, text) = host.request_as(operator, "POST", "/api/v1/notifications/webhooks", &endpoint)?;
    if status != 201 {
        bail!("registering the endpoint failed ({status}): {text}");
    }
    let envelopes: Vec<_> = (0..total)
        .map(|i| {
            let data = json!({ "stationId": uuid::Uuid::nil(), "chargePointId": format!("CP{i:05}"),
                               "lastHeardAt": "2026-12-01T00:00:00Z", "offlineSince": "2026-12-01T00:15:00Z" });
            inject::envelope("charger.offline.v1", data)
        })
        .collect();
    let started = Instant::now();
    inject::publish(amqp_url, exchange, &envelopes).context("publishing the events")?;
    let distinct = || seen.lock().expect("seen").iter().collect::<HashSet<_>>().len();
    while distinct() < total {
        if started.elapsed() > Duration::from_secs(600) {
            bail!("only {} of {total} deliveries arrived", distinct());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    // Late repeats would show up here.
    std::thread::sleep(Duration::from_secs(2));
    let requests = seen.lock().expect("seen").len();
    Ok(Figures { delivered: total, per_second: total as f64 / elapsed.as_secs_f64(), repeats: requests - total })
}
