//! The connections one component's transactions run on.
//!
//! sqlx tests every connection handed back to its pool with a round trip. A transaction that
//! ended cleanly has just proved its connection, so the connection is kept checked out, on a
//! stack of idle ones, and the next transaction takes it from there: one round trip fewer per
//! invocation. A connection that died while on the stack fails at its first statement
//! (`BEGIN` or a read run alone) and is replaced there; one idle longer than the pool's idle
//! timeout is closed.
//!
//! A connection is never handed back to sqlx's pool: one that leaves this stack for any
//! other reason is closed, so only a session reset after its last invocation serves another.
//! Each knows its server process, so that a statement still running when its invocation is
//! dropped can be cancelled through the platform's own pool.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, Postgres};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a connection may stay on the stack when the pool sets no idle timeout.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

pub(super) struct Connections {
    pool: PgPool,
    /// The platform's pool, which cancels statements on the component's connections.
    admin: PgPool,
    /// One for each connection the pool may open, in use or on the stack, so that waiting
    /// transactions take turns whether the next connection comes from the stack or the pool.
    permits: Arc<Semaphore>,
    /// The most recently used on top.
    idle: Mutex<Vec<Idle>>,
    idle_timeout: Duration,
    acquire_timeout: Duration,
}

struct Idle {
    connection: PoolConnection<Postgres>,
    pid: i32,
    since: Instant,
}

/// A connection, its server process, and the turn it was taken on.
pub(super) struct Lease {
    pub(super) connection: PoolConnection<Postgres>,
    pub(super) pid: i32,
    _permit: OwnedSemaphorePermit,
}

impl Connections {
    pub(super) fn new(pool: PgPool, admin: PgPool) -> Self {
        let options = pool.options();
        let permits = Arc::new(Semaphore::new(options.get_max_connections() as usize));
        let idle_timeout = options.get_idle_timeout().unwrap_or(DEFAULT_IDLE_TIMEOUT);
        let acquire_timeout = options.get_acquire_timeout();
        Self { pool, admin, permits, idle: Mutex::new(Vec::new()), idle_timeout, acquire_timeout }
    }

    /// Waits for a turn, then takes the most recently used idle connection, or one from the pool.
    pub(super) async fn acquire(&self) -> Result<Lease, sqlx::Error> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .expect("the semaphore is never closed");
        let reused = self.idle.lock().expect("idle connections lock").pop();
        match reused {
            Some(Idle { connection, pid, since }) if since.elapsed() < self.idle_timeout => {
                return Ok(Lease { connection, pid, _permit: permit });
            }
            // Too old to trust: closed, and everything below it is older.
            Some(stale) => drop((stale, std::mem::take(&mut *self.idle.lock().expect("idle connections lock")))),
            None => {}
        }
        // The pool's own idle connection may have died; one freshly opened fails for good.
        let mut attempts = 2;
        loop {
            let mut connection = self.pool.acquire().await?;
            connection.close_on_drop();
            // Once per connection: the server process to cancel a statement on.
            match sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *connection).await {
                Ok(pid) => return Ok(Lease { connection, pid, _permit: permit }),
                Err(error) if attempts > 1 && connection_lost(&error) => attempts -= 1,
                Err(error) => return Err(error),
            }
        }
    }

    /// Keeps a connection whose session was reset, for the next invocation; then the turn
    /// passes on.
    pub(super) fn release(&self, lease: Lease) {
        let Lease { connection, pid, _permit } = lease;
        self.idle.lock().expect("idle connections lock").push(Idle { connection, pid, since: Instant::now() });
    }

    /// Cancels whatever the server process `pid` runs, through the platform's pool: the
    /// component's own connection is busy with it.
    pub(super) async fn cancel(&self, pid: i32) {
        let cancelled = sqlx::query("SELECT pg_cancel_backend($1)").bind(pid).execute(&self.admin).await;
        if let Err(error) = cancelled {
            tracing::warn!(%error, pid, "failed to cancel a statement whose invocation ended");
        }
    }

    /// How many connections the pool may open, counting those kept here.
    pub(super) fn capacity(&self) -> u32 {
        self.pool.options().get_max_connections()
    }
}

/// Whether the connection itself failed: it broke, or the server ended the session
/// (SQLSTATE class 57P: shutdown, or terminated by an administrator).
pub(super) fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| code.starts_with("57P")),
        _ => false,
    }
}

impl Drop for Connections {
    fn drop(&mut self) {
        // A pooled connection goes back to its pool through a task, which needs a runtime;
        // without one the process is ending, and the sockets close with it.
        if tokio::runtime::Handle::try_current().is_err() {
            let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner));
            std::mem::forget(idle);
        }
    }
}
