//! Tariff versions: each written once, never changed.

use chrono::{DateTime, Utc};
use joule_sdk::db::{self, Error};
use serde_json::Value;
use uuid::Uuid;

pub fn insert(id: Uuid, version: i64, body: &Value, created_at: DateTime<Utc>) -> Result<(), Error> {
    db::execute(
        "INSERT INTO tariffs (id, version, body, created_at) VALUES ($1, $2, $3, $4)",
        &[&id, &version, body, &created_at],
    )
    .map(drop)
}

/// A version of a tariff, the latest when `version` is `None`.
pub fn find(id: Uuid, version: Option<i64>) -> Result<Option<Value>, Error> {
    let rows = match version {
        Some(version) => db::query("SELECT body FROM tariffs WHERE id = $1 AND version = $2", &[&id, &version])?,
        None => db::query("SELECT body FROM tariffs WHERE id = $1 ORDER BY version DESC LIMIT 1", &[&id])?,
    };
    rows.first().map(|row| row.get("body")).transpose()
}

/// The newest version number of a tariff, locking it so concurrent updates take turns.
pub fn latest_version(id: Uuid) -> Result<Option<i64>, Error> {
    // Touching the newest row takes the write lock on both backends before reading.
    db::execute("UPDATE tariffs SET version = version WHERE id = $1", &[&id])?;
    let rows = db::query("SELECT max(version) AS version FROM tariffs WHERE id = $1", &[&id])?;
    rows.first().map(|row| row.get::<Option<i64>>("version")).transpose().map(Option::flatten)
}
