//! Where component versions are kept: the platform database, Postgres or the embedded
//! `platform.db`. Each version holds its wasm bytes, so every replica can load it.

mod postgres;
mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub use postgres::PostgresVersions;
pub use sqlite::SqliteVersions;

/// One stored version of a component, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRecord {
    pub component: String,
    pub version: u32,
    pub sha256: String,
    /// Size of the wasm, in bytes.
    pub size: u64,
    pub deployed_by: String,
    pub deployed_at: DateTime<Utc>,
    pub active: bool,
    /// When it last became active, if ever.
    pub activated_at: Option<DateTime<Utc>>,
}

/// Bytes offered as a new version.
pub struct NewVersion<'a> {
    pub component: &'a str,
    pub wasm: &'a [u8],
    pub sha256: &'a str,
    pub deployed_by: &'a str,
}

/// When [`VersionStore::register`] makes a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// A deploy: unless the bytes are the active version already.
    UnlessActive,
    /// A manifest's source at startup: only if no version has these bytes, so a restart
    /// keeps a version deployed since, and a rebuilt source is deployed.
    UnlessKnown,
}

/// What [`VersionStore::register`] did.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The active version afterwards.
    pub active: VersionRecord,
    /// Whether a new version was stored and activated.
    pub created: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("component {component:?} has no version {version}")]
    UnknownVersion { component: String, version: u32 },
    #[error(transparent)]
    Backend(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        Self::Backend(anyhow::Error::from(error).context("the component registry's database failed"))
    }
}

/// The versions of one application's components.
#[async_trait]
pub trait VersionStore: Send + Sync {
    /// Stores `new` as the next version and makes it active, as `when` allows; the
    /// previously active version stays stored.
    async fn register(&self, new: NewVersion<'_>, when: Register) -> Result<Registered, StoreError>;

    /// Makes a stored version the active one.
    async fn activate(&self, component: &str, version: u32) -> Result<VersionRecord, StoreError>;

    /// The active version of every component.
    async fn active(&self) -> Result<Vec<VersionRecord>, StoreError>;

    /// Every version of `component`, newest first.
    async fn versions(&self, component: &str) -> Result<Vec<VersionRecord>, StoreError>;

    /// The wasm bytes of one version.
    async fn wasm(&self, component: &str, version: u32) -> Result<Option<Vec<u8>>, StoreError>;

    /// A feed that wakes when another process changes an active version; `None` when no
    /// other process can (the embedded store belongs to one process).
    async fn changes(&self) -> Result<Option<Box<dyn ChangeFeed>>, StoreError>;
}

/// Wakes when active versions may have changed elsewhere.
#[async_trait]
pub trait ChangeFeed: Send {
    /// Waits for the next change. After a lost connection it returns at once, since
    /// changes may have been missed meanwhile.
    async fn next(&mut self) -> Result<(), StoreError>;
}

/// What registering bytes comes to, given the stored `(version, sha256, active)` rows.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// Keep the active version as it is.
    Keep(u32),
    /// Store the bytes as this new version and activate it.
    Create(u32),
}

fn decide(stored: &[(u32, String, bool)], sha256: &str, when: Register) -> Decision {
    let active = stored.iter().find(|(_, _, active)| *active);
    let next = stored.iter().map(|(version, _, _)| *version).max().unwrap_or(0) + 1;
    match (when, active) {
        (Register::UnlessActive, Some((version, sha, _))) if sha == sha256 => Decision::Keep(*version),
        (Register::UnlessKnown, Some((version, _, _))) if stored.iter().any(|(_, sha, _)| sha == sha256) => {
            Decision::Keep(*version)
        }
        _ => Decision::Create(next),
    }
}

/// Which version a rollback without a number goes to: the one active most recently
/// before the current one, else the highest below it.
pub fn rollback_target(versions: &[VersionRecord]) -> Option<u32> {
    let current = versions.iter().find(|v| v.active)?;
    versions
        .iter()
        .filter(|v| !v.active && v.version != current.version)
        .max_by_key(|v| (v.activated_at, v.version))
        .map(|v| v.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(rows: &[(u32, &str, bool)]) -> Vec<(u32, String, bool)> {
        rows.iter().map(|(v, sha, active)| (*v, sha.to_string(), *active)).collect()
    }

    #[test]
    fn a_deploy_makes_a_version_unless_the_bytes_are_active() {
        let rows = stored(&[(1, "a", false), (2, "b", true)]);
        assert_eq!(decide(&rows, "b", Register::UnlessActive), Decision::Keep(2));
        assert_eq!(decide(&rows, "a", Register::UnlessActive), Decision::Create(3));
        assert_eq!(decide(&rows, "c", Register::UnlessActive), Decision::Create(3));
        assert_eq!(decide(&[], "a", Register::UnlessActive), Decision::Create(1));
    }

    #[test]
    fn a_manifest_source_is_registered_only_when_new() {
        let rows = stored(&[(1, "a", false), (2, "b", true)]);
        assert_eq!(decide(&rows, "a", Register::UnlessKnown), Decision::Keep(2));
        assert_eq!(decide(&rows, "c", Register::UnlessKnown), Decision::Create(3));
        assert_eq!(decide(&[], "a", Register::UnlessKnown), Decision::Create(1));
    }

    fn versions(rows: &[(u32, bool, Option<i64>)]) -> Vec<VersionRecord> {
        rows.iter()
            .map(|(version, active, activated)| VersionRecord {
                component: "c".into(),
                version: *version,
                sha256: String::new(),
                size: 0,
                deployed_by: String::new(),
                deployed_at: DateTime::UNIX_EPOCH,
                active: *active,
                activated_at: activated.and_then(DateTime::from_timestamp_millis),
            })
            .collect()
    }

    #[test]
    fn rollback_goes_to_the_version_active_before() {
        assert_eq!(rollback_target(&versions(&[(1, false, Some(10)), (2, false, Some(20)), (3, true, Some(30))])), Some(2));
        // After rolling back from 3 to 1, the next rollback returns to 3.
        assert_eq!(rollback_target(&versions(&[(1, true, Some(40)), (2, false, Some(20)), (3, false, Some(30))])), Some(3));
        assert_eq!(rollback_target(&versions(&[(1, false, None), (2, false, None), (3, true, Some(30))])), Some(2));
        assert_eq!(rollback_target(&versions(&[(1, true, Some(10))])), None);
        assert_eq!(rollback_target(&[]), None);
    }
}
