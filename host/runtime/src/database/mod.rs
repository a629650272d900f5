//! Component databases, where each invocation's unit of work is kept: its statements, the
//! events it publishes (the outbox) and the events it handled (the inbox).
//!
//! A [`DatabaseBackend`] opens one [`ComponentDatabase`] per component that needs one; each
//! invocation lazily begins one [`Transaction`] on it, which the invocation runner commits or
//! rolls back as a whole. The `database` capability gives a component SQL inside it.

#[cfg(test)]
mod pending_tests;
pub mod postgres;
pub(crate) mod sql;
pub mod sqlite;
mod sqlite_outbox;
mod sqlite_timers;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use async_trait::async_trait;
use joule_world::database::{Error, RowSet, Value};
use tokio::sync::Notify;

use crate::background::Background;
use crate::events::{Envelope, Outbox};
use crate::timers::{NewTimer, TimerStore};

/// Where component databases live: SQLite files, or Postgres schemas.
#[async_trait]
pub trait DatabaseBackend: Send + Sync {
    /// A short name for logs and errors, such as "sqlite".
    fn name(&self) -> &'static str;

    /// Opens the component's database, applying its migrations first.
    async fn open(&self, component: &str, options: &OpenOptions<'_>) -> anyhow::Result<Arc<dyn ComponentDatabase>>;

    /// Checks that the backend can be reached, for readiness.
    async fn ping(&self) -> anyhow::Result<()>;

    /// The outbox of every component opened here. `signal` is woken when other replicas
    /// commit events (a task in `background` listens); local commits wake it themselves.
    fn outbox(&self, signal: Arc<Notify>, background: &Background) -> Arc<dyn Outbox>;

    /// The timers of every component opened here. `signal` is woken when other replicas
    /// commit timers (a task in `background` listens); local commits wake it themselves.
    fn timers(&self, signal: Arc<Notify>, background: &Background) -> Arc<dyn TimerStore>;
}

/// How to open a component's database.
pub struct OpenOptions<'a> {
    /// The directory of the component's migrations.
    pub migrations: Option<&'a Path>,
    /// The component's time limit, which bounds every statement too.
    pub timeout: Duration,
    /// The event types the component may publish.
    pub publishes: &'a BTreeSet<String>,
}

/// One component's database.
pub trait ComponentDatabase: Send + Sync {
    /// A unit of work that starts talking to the database only at its first statement;
    /// no statement may run past `deadline`.
    fn begin(&self, deadline: Instant) -> Box<dyn Transaction>;
}

/// What a statement returned.
pub(crate) enum Output {
    Rows(RowSet),
    Affected(u64),
}

impl Output {
    /// The rows of a statement run as a query.
    pub(crate) fn into_rows(self) -> RowSet {
        match self {
            Self::Rows(rows) => rows,
            Self::Affected(_) => unreachable!("a query returns rows"),
        }
    }

    /// The count of a statement run as an execute.
    pub(crate) fn into_count(self) -> u64 {
        match self {
            Self::Affected(count) => count,
            Self::Rows(_) => unreachable!("an execute returns a count"),
        }
    }
}

/// Reads a component's migrations, `<version>_<name>.sql`. Each backend runs them once,
/// keeping the history in the component's own database; on Postgres, replicas take turns
/// on an advisory lock.
pub(crate) async fn migrations(dir: &Path) -> anyhow::Result<sqlx::migrate::Migrator> {
    sqlx::migrate::Migrator::new(dir)
        .await
        .with_context(|| format!("failed to read migrations from {}", dir.display()))
}

pub(crate) fn migration_failed(dir: &Path, component: &str) -> String {
    format!("failed to apply migrations from {} to component {component:?}", dir.display())
}

/// The statements of one invocation. Dropping it without committing rolls it back.
#[async_trait]
pub trait Transaction: Send {
    async fn query(&mut self, statement: &str, params: &[Value]) -> Result<RowSet, Error>;
    async fn execute(&mut self, statement: &str, params: &[Value]) -> Result<u64, Error>;
    async fn commit(self: Box<Self>) -> Result<(), Error>;
    async fn rollback(self: Box<Self>) -> Result<(), Error>;
    /// Writes events to the outbox in order, to leave only if this unit of work commits.
    async fn enqueue(&mut self, events: &[Envelope]) -> Result<(), Error>;
    /// Records that the component handled `event_id`; false if it already had.
    async fn record_delivery(&mut self, event_id: &str) -> Result<bool, Error>;
    /// Schedules a timer, to exist only if this unit of work commits; one with the same key
    /// is replaced.
    async fn schedule_timer(&mut self, timer: &NewTimer) -> Result<(), Error>;
    /// Cancels the component's pending timer with `key`; whether there was one.
    async fn cancel_timer(&mut self, key: &str) -> Result<bool, Error>;
}

/// Published events wait in the unit of work and go to the outbox in one statement: at
/// commit, or sooner once this many events or bytes of their data have gathered.
const PENDING_EVENTS: usize = 500;
const PENDING_BYTES: usize = 1 << 20;

/// Who waits for what a unit of work commits: the relay for events, the timer trigger for
/// timers.
#[derive(Clone)]
pub struct CommitSignals {
    pub outbox: Arc<Notify>,
    pub timers: Arc<Notify>,
}

/// The database side of one invocation.
pub struct DatabaseState {
    database: Option<Arc<dyn ComponentDatabase>>,
    transaction: Option<Box<dyn Transaction>>,
    component: Arc<str>,
    deadline: Instant,
    /// Woken after a commit that published events, or scheduled timers.
    signals: Option<CommitSignals>,
    published: bool,
    scheduled: bool,
    /// Events published and not yet written to the outbox, in order, and their data's size.
    pending: Vec<Envelope>,
    pending_bytes: usize,
}

impl DatabaseState {
    pub fn new(
        component: Arc<str>,
        database: Option<Arc<dyn ComponentDatabase>>,
        deadline: Instant,
        signals: Option<CommitSignals>,
    ) -> Self {
        Self {
            database,
            transaction: None,
            component,
            deadline,
            signals,
            published: false,
            scheduled: false,
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }

    /// Publishes an event within this unit of work; `data_bytes` is the size of its data.
    pub async fn enqueue(&mut self, event: Envelope, data_bytes: usize) -> Result<(), Error> {
        self.database()?;
        self.pending.push(event);
        self.pending_bytes += data_bytes;
        if self.pending.len() >= PENDING_EVENTS || self.pending_bytes >= PENDING_BYTES {
            if let Err(e) = self.write_pending().await {
                // This publish failed; the events before it stay pending, to be written at commit.
                self.pending.pop();
                self.pending_bytes -= data_bytes;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Writes the pending events to the outbox; they stay pending if that fails.
    async fn write_pending(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.pending);
        let written = match self.transaction() {
            Ok(transaction) => transaction.enqueue(&events).await,
            Err(e) => Err(e),
        };
        match written {
            Ok(()) => {
                self.pending_bytes = 0;
                self.published = true;
                Ok(())
            }
            Err(e) => {
                self.pending = events;
                Err(e)
            }
        }
    }

    /// Records the event this invocation handles; false when it was handled before.
    pub async fn record_delivery(&mut self, event_id: &str) -> Result<bool, Error> {
        self.transaction()?.record_delivery(event_id).await
    }

    /// Schedules a timer within this unit of work.
    pub async fn schedule_timer(&mut self, timer: &NewTimer) -> Result<(), Error> {
        self.transaction()?.schedule_timer(timer).await?;
        self.scheduled = true;
        Ok(())
    }

    /// Cancels the component's timer with `key` within this unit of work.
    pub async fn cancel_timer(&mut self, key: &str) -> Result<bool, Error> {
        self.transaction()?.cancel_timer(key).await
    }

    /// Moves the unit of work out, leaving a state with none.
    pub(crate) fn take(&mut self) -> Self {
        Self {
            database: self.database.take(),
            transaction: self.transaction.take(),
            component: self.component.clone(),
            deadline: self.deadline,
            signals: self.signals.clone(),
            published: std::mem::take(&mut self.published),
            scheduled: std::mem::take(&mut self.scheduled),
            pending: std::mem::take(&mut self.pending),
            pending_bytes: std::mem::take(&mut self.pending_bytes),
        }
    }

    fn database(&self) -> Result<&Arc<dyn ComponentDatabase>, Error> {
        self.database
            .as_ref()
            .ok_or_else(|| Error::AccessDenied(format!("component {:?} has no database", self.component)))
    }

    pub(crate) fn transaction(&mut self) -> Result<&mut Box<dyn Transaction>, Error> {
        let database = self.database()?.clone();
        let deadline = self.deadline;
        Ok(self.transaction.get_or_insert_with(|| database.begin(deadline)))
    }

    /// Ends the unit of work: commits when `success`, otherwise rolls back. Events still
    /// pending are written just before the commit, and a failure to write them rolls back.
    pub async fn finish(&mut self, success: bool) -> Result<(), Error> {
        let written = if success { self.write_pending().await } else { Ok(()) };
        let result = match (self.transaction.take(), written) {
            (None, written) => written,
            (Some(transaction), Ok(())) if success => transaction.commit().await,
            (Some(transaction), written) => transaction.rollback().await.and(written),
        };
        let (published, scheduled) = (std::mem::take(&mut self.published), std::mem::take(&mut self.scheduled));
        if let (true, Ok(()), Some(signals)) = (success, &result, &self.signals) {
            if published {
                signals.outbox.notify_one();
            }
            if scheduled {
                signals.timers.notify_one();
            }
        }
        result
    }
}
