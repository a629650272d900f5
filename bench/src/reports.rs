//! The reports component's event ingestion rate, on RabbitMQ, Postgres and Redis: completed
//! sessions on 20 stations over a month, each followed by its invoice, put straight on the
//! reports' own queue (so billing and notifications do not take the same events), from the
//! first publish until the host's metrics count every one handled and committed.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{TimeDelta, TimeZone as _, Utc};
use serde_json::{Value, json};

use crate::events::handled_by;
use crate::host::Host;
use crate::inject;

const STATIONS: u128 = 20;

/// A completed session and its invoice, the `n`th of the run.
fn session_and_invoice(n: usize) -> [Value; 2] {
    let station = uuid::Uuid::from_u128(1 + n as u128 % STATIONS);
    let session = uuid::Uuid::now_v7();
    let started = Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).single().expect("a time") + TimeDelta::minutes(37 * n as i64 % (30 * 24 * 60));
    let stopped = started + TimeDelta::minutes(50);
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let completed = json!({
        "sessionId": session, "stationId": station, "connectorId": "1", "driverId": format!("driver-{}", n % 500),
        "timeZone": "Europe/Amsterdam", "startedAt": at(started), "stoppedAt": at(stopped),
        "unpluggedAt": at(stopped + TimeDelta::minutes(10)), "energyWh": 18_000,
        "periods": [{ "startsAt": at(started), "endsAt": at(stopped), "energyWh": 18_000 }],
    });
    let invoice = json!({
        "id": uuid::Uuid::now_v7(), "kind": "charging", "sessionId": session, "currency": "EUR",
        "totalExclVat": "5.40", "totalInclVat": "6.48", "createdAt": at(stopped + TimeDelta::minutes(11)),
    });
    [inject::envelope("charging.session.completed.v1", completed), inject::envelope("invoice.created.v1", invoice)]
}

/// Puts `sessions` sessions and their invoices on `queue`; returns events handled per second.
pub fn measure(host: &Host, amqp_url: &str, queue: &str, sessions: usize) -> anyhow::Result<f64> {
    let envelopes: Vec<Value> = (0..sessions).flat_map(session_and_invoice).collect();
    let total = envelopes.len() as u64;
    let before = handled_by(host, "reports")?;
    let started = Instant::now();
    inject::publish_to_queue(amqp_url, queue, &envelopes).context("publishing to the reports' queue")?;
    while handled_by(host, "reports")? - before < total {
        if started.elapsed() > Duration::from_secs(600) {
            bail!("only {} of {total} events were handled", handled_by(host, "reports")? - before);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
