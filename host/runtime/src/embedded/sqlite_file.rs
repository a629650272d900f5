use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::ConnectOptions as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// Readers this process keeps open per file; WAL lets them run beside the writer.
const READERS: u32 = 8;

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
            .max_connections(1)
            .min_connections(1)
            // The invocation's own timeout bounds the wait for the writer.
            .acquire_timeout(Duration::from_secs(300))
            .connect_with(options.clone())
            .await
            .with_context(|| format!("failed to open SQLite database {}", path.display()))?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(Duration::from_secs(300))
            .connect_with(options.read_only(true))
            .await
            .with_context(|| format!("failed to open SQLite database {} for reading", path.display()))?;
        Ok(Self { writer, readers })
    }
}
