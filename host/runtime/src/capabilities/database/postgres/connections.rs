//! The connections one component's transactions run on.
//!
//! sqlx tests every connection handed back to its pool with a round trip. A transaction that
//! ended cleanly has just proved its connection, so the connection is kept checked out, on a
//! stack of idle ones, and the next transaction takes it from there: one round trip fewer per
//! invocation. A connection that died while on the stack fails at its first statement
//! (`BEGIN` or a read run alone) and is replaced there; one idle longer than the pool's idle
//! timeout goes back to the pool, which closes it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, Postgres};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a connection may stay on the stack when the pool sets no idle timeout.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

pub(super) struct Connections {
    pool: PgPool,
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
    since: Instant,
}

/// A connection and the turn it was taken on.
pub(super) struct Lease {
    pub(super) connection: PoolConnection<Postgres>,
    _permit: OwnedSemaphorePermit,
}

impl Connections {
    pub(super) fn new(pool: PgPool) -> Self {
        let options = pool.options();
        let permits = Arc::new(Semaphore::new(options.get_max_connections() as usize));
        let idle_timeout = options.get_idle_timeout().unwrap_or(DEFAULT_IDLE_TIMEOUT);
        let acquire_timeout = options.get_acquire_timeout();
        Self { pool, permits, idle: Mutex::new(Vec::new()), idle_timeout, acquire_timeout }
    }

    /// Waits for a turn, then takes the most recently used idle connection, or one from the pool.
    pub(super) async fn acquire(&self) -> Result<Lease, sqlx::Error> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .expect("the semaphore is never closed");
        let reused = self.idle.lock().expect("idle connections lock").pop();
        let connection = match reused {
            Some(idle) if idle.since.elapsed() < self.idle_timeout => idle.connection,
            // Too old to trust: the pool tests or closes it, and everything below it is older.
            Some(stale) => {
                let older = std::mem::take(&mut *self.idle.lock().expect("idle connections lock"));
                drop((stale, older));
                self.pool.acquire().await?
            }
            None => self.pool.acquire().await?,
        };
        Ok(Lease { connection, _permit: permit })
    }

    /// Keeps a connection whose transaction ended cleanly, for the next one; then the turn
    /// passes on.
    pub(super) fn release(&self, lease: Lease) {
        let Lease { connection, _permit } = lease;
        self.idle.lock().expect("idle connections lock").push(Idle { connection, since: Instant::now() });
    }

    /// How many connections the pool may open, counting those kept here.
    pub(super) fn capacity(&self) -> u32 {
        self.pool.options().get_max_connections()
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
