use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::ConnectOptions as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Readers this process keeps open per file; WAL lets them run beside the writer.
const READERS: u32 = 8;
/// How many SQLite virtual machine instructions run between looks at the clock.
const PROGRESS_OPS: i32 = 1000;

/// One SQLite file, opened as a single writer plus a pool of read-only readers.
///
/// SQLite allows one writer at a time. Queueing writers on a one-connection pool
/// makes them wait their turn in order, instead of sleeping in SQLite's busy handler.
#[derive(Clone)]
pub struct SqliteFile {
    pub writer: SqlitePool,
    pub readers: SqlitePool,
}

impl SqliteFile {
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .disable_statement_logging();
        let writer = SqlitePoolOptions::new()
            .after_connect(|connection, _| Box::pin(forbid_attach(connection)))
            .after_release(|connection, _| Box::pin(async { no_deadline(connection).await.map(|()| true) }))
            .max_connections(1)
            .min_connections(1)
            // Invocations wait for the writer until their own deadline; this bounds the platform's.
            .acquire_timeout(Duration::from_secs(300))
            .connect_with(options.clone())
            .await
            .with_context(|| format!("failed to open SQLite database {}", path.display()))?;
        let readers = SqlitePoolOptions::new()
            .after_connect(|connection, _| Box::pin(forbid_attach(connection)))
            .after_release(|connection, _| Box::pin(async { no_deadline(connection).await.map(|()| true) }))
            .max_connections(READERS)
            .acquire_timeout(Duration::from_secs(300))
            .connect_with(options.read_only(true))
            .await
            .with_context(|| format!("failed to open SQLite database {} for reading", path.display()))?;
        Ok(Self { writer, readers })
    }
}

/// Interrupts whatever `connection` runs once `deadline` has passed: SQLite checks every
/// [`PROGRESS_OPS`] instructions, so a runaway query stops within a moment of it, even when
/// nobody awaits it any more. The pools take the deadline off when the connection returns.
pub async fn interrupt_at(connection: &mut SqliteConnection, deadline: Instant) -> Result<(), sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    handle.set_progress_handler(PROGRESS_OPS, move || Instant::now() < deadline);
    Ok(())
}

async fn no_deadline(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    connection.lock_handle().await?.remove_progress_handler();
    Ok(())
}

/// A component's SQL must not open other database files: `ATTACH` (and `VACUUM INTO`,
/// which attaches its target) would reach another component's file or any path.
async fn forbid_attach(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    #[allow(unsafe_code)]
    // SAFETY: the handle is locked for this call, and sqlite3_limit only lowers one of this
    // connection's limits.
    unsafe {
        libsqlite3_sys::sqlite3_limit(handle.as_raw_handle().as_ptr(), libsqlite3_sys::SQLITE_LIMIT_ATTACHED, 0);
    }
    Ok(())
}
