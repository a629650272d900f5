//! The timer trigger: timers that units of work scheduled, and the ticks of
//! `[[trigger.schedule]]`, delivered to their components' event handlers when due.
//!
//! The loop sleeps until the earliest timer falls due, or until a commit schedules one
//! (locally, or on another replica through the database's notification), claims what is
//! due, and delivers each through the runtime's invocation runner, as the queue trigger
//! delivers a message: recorded in the inbox, retried with backoff, kept as dead after the
//! last attempt. Replicas share the work through their claims.

mod fire;
mod schedules;

use std::sync::Arc;
use std::time::Duration;

use joule_runtime::Runtime;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

/// Deliveries in flight at once; each holds an invocation of its component.
const CONCURRENCY: usize = 64;
/// The longest sleep: a safety net for a notification lost while the listener reconnected.
/// Wake-ups come from commits and from the earliest due time, not from this.
const MAX_SLEEP: Duration = Duration::from_secs(30);
/// A claim lasts this much longer than the slowest component's time limit, so a replica
/// that died mid-delivery lets another take the timer afterwards.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// How long to wait before trying the store again after it failed.
const STORE_RETRY: Duration = Duration::from_secs(1);

pub struct TimerTrigger {
    runtime: Arc<Runtime>,
    /// How long deliveries in flight may take to finish after shutdown begins.
    shutdown_grace: Duration,
}

impl TimerTrigger {
    pub fn new(runtime: Arc<Runtime>, shutdown_grace: Duration) -> Self {
        Self { runtime, shutdown_grace }
    }

    /// Keeps every component's schedule rows in step with the manifest.
    pub async fn keep_schedules(&self) -> anyhow::Result<()> {
        schedules::keep(&self.runtime).await
    }

    /// Delivers due timers until `shutdown`, then lets deliveries in flight finish.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let manifest = self.runtime.manifest();
        let slowest = manifest.components.values().map(|c| c.limits.timeout).max().unwrap_or_default();
        let lease = slowest + LEASE_MARGIN;
        let deliveries = TaskTracker::new();
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        tokio::select! {
            () = shutdown => {}
            () = self.fire_due(lease, &permits, &deliveries) => {}
        }
        deliveries.close();
        if tokio::time::timeout(self.shutdown_grace, deliveries.wait()).await.is_err() {
            tracing::warn!(in_flight = deliveries.len(), "timer deliveries still running at shutdown; their claims expire");
        }
    }

    async fn fire_due(&self, lease: Duration, permits: &Arc<Semaphore>, deliveries: &TaskTracker) {
        let (store, signal) = self.runtime.timers();
        loop {
            // A batch at a time, one round trip each: a claimed timer waits here at most
            // until a batch of deliveries ahead of it has finished, well within its lease.
            let claimed = match store.claim(CONCURRENCY, lease).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "failed to claim due timers; trying again");
                    tokio::time::sleep(STORE_RETRY).await;
                    continue;
                }
            };
            let full = claimed.len() == CONCURRENCY;
            for timer in claimed {
                let permit = permits.clone().acquire_owned().await.expect("the semaphore is never closed");
                let runtime = self.runtime.clone();
                deliveries.spawn(async move {
                    fire::fire(&runtime, timer).await;
                    drop(permit);
                });
            }
            if full {
                continue;
            }
            let sleep = match store.next_due().await {
                Ok(Some(due)) => due.min(MAX_SLEEP),
                Ok(None) => MAX_SLEEP,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "failed to read the next due timer; trying again");
                    STORE_RETRY
                }
            };
            if sleep.is_zero() {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                () = signal.notified() => {}
            }
        }
    }
}
