//! Timers: events a unit of work schedules for a later time, delivered to the component
//! that scheduled them, and the ticks of `[[trigger.schedule]]`, kept the same way.
//!
//! Scheduling and cancelling happen inside the unit of work (the `timers` capability writes
//! through its [`crate::database::Transaction`]); the timer trigger claims due timers from a
//! [`TimerStore`], delivers each through the invocation runner, and settles it here.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

/// A timer as a unit of work schedules it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTimer {
    /// Also the id of the event it delivers, which the inbox records.
    pub id: String,
    /// Replaces the component's pending timer with the same key.
    pub key: Option<String>,
    pub event_type: String,
    pub data: serde_json::Value,
    pub due_at: DateTime<Utc>,
    /// Of the scheduling invocation, carried into the delivery.
    pub correlation_id: Option<String>,
    pub traceparent: Option<String>,
    pub actor: Option<String>,
}

/// A timer that fell due, claimed for delivery.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DueTimer {
    pub component: String,
    pub id: String,
    pub key: Option<String>,
    /// The schedule whose tick this is, if it is one.
    pub schedule: Option<String>,
    pub event_type: String,
    pub data: serde_json::Value,
    pub due_at: DateTime<Utc>,
    pub correlation_id: Option<String>,
    pub traceparent: Option<String>,
    pub actor: Option<String>,
    /// Deliveries that failed before this one.
    pub attempts: u32,
}

/// A timer kept after its last attempt failed; its `attempts` count every failed delivery.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadTimer {
    #[serde(flatten)]
    pub timer: DueTimer,
    pub error: String,
    pub died_at: DateTime<Utc>,
}

/// A schedule's row: its identity, the event it delivers and its next tick.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRow {
    pub schedule: String,
    pub event_type: String,
    pub first_tick: DateTime<Utc>,
}

/// How a delivered or failed timer goes on.
#[derive(Debug, Clone, PartialEq)]
pub enum Settle {
    /// Delivered: it is gone, or a schedule's row waits for `next_tick`.
    Delivered { next_tick: Option<DateTime<Utc>> },
    /// Failed: tried again at `at`; an attempt the component was too busy for is not counted.
    Retry { at: DateTime<Utc>, error: String, counted: bool },
    /// Failed for the last time: kept as dead, and a schedule's row waits for `next_tick`.
    Dead { error: String, next_tick: Option<DateTime<Utc>> },
}

/// The committed timers of every component.
#[async_trait]
pub trait TimerStore: Send + Sync {
    /// How long until the earliest timer may be claimed (zero when one is due); `None` when
    /// there is none.
    async fn next_due(&self) -> anyhow::Result<Option<Duration>>;

    /// Claims up to `limit` due timers, earliest first, for `lease`: another replica may take
    /// one whose lease ran out before it was settled.
    async fn claim(&self, limit: usize, lease: Duration) -> anyhow::Result<Vec<DueTimer>>;

    /// Settles a claimed timer. Nothing happens if it was replaced or cancelled meanwhile.
    async fn settle(&self, timer: &DueTimer, settle: Settle) -> anyhow::Result<()>;

    /// Makes `component`'s schedule rows exactly `schedules`: a missing one is added at its
    /// first tick, one still listed keeps its next tick (an overdue tick fires once), and one
    /// no longer listed is removed.
    async fn keep_schedules(&self, component: &str, schedules: &[ScheduleRow]) -> anyhow::Result<()>;

    /// How many timers wait, due or not.
    async fn pending(&self) -> anyhow::Result<u64>;

    /// The most recent dead timers, newest first.
    async fn dead(&self, limit: usize) -> anyhow::Result<Vec<DeadTimer>>;
}

/// A time as SQLite keeps it: UTC with microseconds, so text order is time order.
pub(crate) fn sortable(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}
