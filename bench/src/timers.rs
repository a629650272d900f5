//! Timers: how fast they are scheduled with none and with 100,000 pending, and how fast and
//! how late a burst due in the same second is delivered, with none and with 100,000 pending.
//! Uses the timer tests' scheduler component (`tests/manifests/timers.toml`), whose handler
//! records, for each delivery, the due time and the wall clock time it ran at.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{SecondsFormat, TimeDelta, Utc};

use crate::host::Host;

/// Timers per scheduling request, and requests in flight at once.
const PER_REQUEST: usize = 500;
const CONCURRENT: usize = 4;
/// Timers measured when scheduling, before and after the table is filled.
const SAMPLE: usize = 5_000;
/// Pending timers while scheduling and firing are measured again.
pub const PENDING: usize = 100_000;

/// A burst of timers due in the same second: delivered per second, from their due time to
/// the last delivery, and how late each ran, in milliseconds.
pub struct Burst {
    pub fired: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub struct Figures {
    /// Timers scheduled per second with the table empty, and with [`PENDING`] waiting.
    pub scheduled_empty: f64,
    pub scheduled_full: f64,
    /// The same burst with none pending, twice (the second tells what earlier bursts left
    /// behind, such as the component's own rows, from what pending timers cost), with
    /// [`PENDING`] waiting right after they were scheduled in bulk, and once more after that.
    pub burst_empty: Burst,
    pub burst_empty_again: Burst,
    pub burst_full: Burst,
    pub burst_full_again: Burst,
}

pub fn measure(host: &Host, burst: usize) -> anyhow::Result<Figures> {
    let burst_empty = fire(host, burst, "empty", 0)?;
    let burst_empty_again = fire(host, burst, "empty-again", burst)?;
    let far = Utc::now() + TimeDelta::days(1);
    let scheduled_empty = SAMPLE as f64 / schedule(host, SAMPLE, far, "far")?.as_secs_f64();
    schedule(host, PENDING - 2 * SAMPLE, far, "far")?;
    let scheduled_full = SAMPLE as f64 / schedule(host, SAMPLE, far, "far")?.as_secs_f64();
    let burst_full = fire(host, burst, "full", 2 * burst)?;
    // Still as many pending: what the bulk insert left for the database to do is done by now.
    let burst_full_again = fire(host, burst, "again", 3 * burst)?;
    Ok(Figures { scheduled_empty, scheduled_full, burst_empty, burst_empty_again, burst_full, burst_full_again })
}

/// Schedules `burst` timers labelled `label`, due together a moment after they are all
/// scheduled, and waits for them; `before` timers of the same type ran earlier.
fn fire(host: &Host, burst: usize, label: &str, before: usize) -> anyhow::Result<Burst> {
    let due = Utc::now() + TimeDelta::seconds(3);
    let took = schedule(host, burst, due, label)?;
    if Utc::now() >= due {
        bail!("scheduling the burst took {took:?}, past its due time");
    }
    let expected = (before + burst) as u64;
    let started = Instant::now();
    // The count is an index probe; the summary, which scans every run, is read once at the end,
    // so polling does not load the database more as runs accumulate from burst to burst.
    loop {
        let (_, text) = host.request("GET", "/scheduler/count?type=test.timer.v1", None)?;
        let count: serde_json::Value = serde_json::from_str(&text)?;
        if count["runs"].as_u64().is_some_and(|runs| runs >= expected) {
            break;
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the burst was not delivered within 5 minutes: {count}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, text) = host.request("GET", "/scheduler/summary?type=test.timer.v1", None)?;
    let summary: serde_json::Value = serde_json::from_str(&text)?;
    if summary["events"].as_u64() != Some(expected) || summary["runs"].as_u64() != Some(expected) {
        bail!("expected {expected} timers run once each: {summary}");
    }
    let due_ms = due.timestamp_millis();
    let (_, text) = host.request("GET", &format!("/scheduler/ticks/test.timer.v1?since={due_ms}"), None)?;
    let runs: serde_json::Value = serde_json::from_str(&text)?;
    let mut late: Vec<i64> = runs["runs"]
        .as_array()
        .context("the scheduler lists its runs")?
        .iter()
        .filter(|run| run["data"]["burst"] == label)
        .filter_map(|run| run["handledMs"].as_i64())
        .map(|handled| handled - due_ms)
        .collect();
    late.sort_unstable();
    let last = *late.last().context("the burst ran")?;
    let percentile = |p: f64| late[((late.len() as f64 - 1.0) * p).round() as usize] as f64;
    Ok(Burst { fired: burst as f64 / (last.max(1) as f64 / 1000.0), p50_ms: percentile(0.5), p99_ms: percentile(0.99) })
}

/// Schedules `total` timers due at `at`, [`PER_REQUEST`] per request from [`CONCURRENT`]
/// clients; returns how long it took.
fn schedule(host: &Host, total: usize, at: chrono::DateTime<Utc>, label: &str) -> anyhow::Result<Duration> {
    let at = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let requests = total.div_ceil(PER_REQUEST);
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..CONCURRENT)
            .map(|worker| {
                let at = at.clone();
                scope.spawn(move || -> anyhow::Result<()> {
                    for request in (worker..requests).step_by(CONCURRENT) {
                        let count = PER_REQUEST.min(total - request * PER_REQUEST);
                        let body = serde_json::json!({
                            "at": at, "eventType": "test.timer.v1", "count": count, "data": { "burst": label },
                        });
                        let (status, text) = host.request("POST", "/scheduler/timers", Some(&body))?;
                        if status != 201 {
                            bail!("scheduling failed ({status}): {text}");
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("scheduling thread")?;
        }
        Ok(())
    })?;
    Ok(started.elapsed())
}
