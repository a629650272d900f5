use std::path::Path;

use anyhow::Context as _;

use super::SqliteFile;

/// The platform's own embedded store (`platform.db`): key-value entries now, and later
/// the outbox, the inbox, the broker's queues and the component registry.
#[derive(Clone)]
pub struct LocalStore {
    file: SqliteFile,
}

impl LocalStore {
    pub async fn open(state_dir: &Path) -> anyhow::Result<Self> {
        let file = SqliteFile::open(&state_dir.join("platform.db")).await?;
        sqlx::migrate!("../../migrations/sqlite")
            .run(&file.writer)
            .await
            .context("failed to apply the platform's SQLite migrations")?;
        Ok(Self { file })
    }

    pub fn file(&self) -> &SqliteFile {
        &self.file
    }
}
