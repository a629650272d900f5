//! The embedded defaults: everything under one state directory (`.joule/` by default),
//! so `joule up` runs with no services.

mod sqlite_file;
mod state_lock;
mod store;

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use sqlite_file::{SqliteFile, interrupt_at};
pub use store::LocalStore;

/// The state directory, locked for this process: two hosts writing the same SQLite files
/// would break the single-writer design.
pub struct StateDir {
    path: PathBuf,
    _lock: File,
}

impl StateDir {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(path)
            .with_context(|| format!("failed to create the state directory {}", path.display()))?;
        let lock = state_lock::lock(&path.join("lock"), path)?;
        Ok(Self { path: path.to_path_buf(), _lock: lock })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where component databases live.
    pub fn databases(&self) -> PathBuf {
        self.path.join("databases")
    }

    /// Where the mail drop writes messages when no SMTP server is configured.
    pub fn mail(&self) -> PathBuf {
        self.path.join("mail")
    }

    /// Where compiled components are cached.
    pub fn compile_cache(&self) -> PathBuf {
        self.path.join("cache")
    }
}
