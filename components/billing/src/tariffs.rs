//! Every tariff version, kept from the tariffs' events, so a session or stay is priced with
//! the tariff as it stood when it began.

use joule_sdk::db;
use joule_sdk::events::HandlerError;
use serde_json::Value;

use crate::invoicing::retry;

pub fn keep(data: &Value) -> Result<(), HandlerError> {
    let (Some(id), Some(version)) = (data["id"].as_str(), data["version"].as_i64()) else {
        return Err(HandlerError::Permanent("a tariff event without id or version".into()));
    };
    db::execute(
        "INSERT INTO tariffs (id, version, body) VALUES ($1, $2, $3) ON CONFLICT (id, version) DO NOTHING",
        &[&id, &version, data],
    )
    .map(drop)
    .map_err(retry)
}

/// The tariff `version` of `id`, else its newest known version. One not here yet is a
/// retry: its event may still be on its way.
pub fn find(id: &str, version: Option<i64>) -> Result<Value, HandlerError> {
    let rows = match version {
        Some(version) => db::query("SELECT body FROM tariffs WHERE id = $1 AND version = $2", &[&id, &version]),
        None => db::query("SELECT body FROM tariffs WHERE id = $1 ORDER BY version DESC LIMIT 1", &[&id]),
    }
    .map_err(retry)?;
    let row = rows
        .first()
        .ok_or_else(|| HandlerError::Retryable(format!("tariff {id} version {version:?} has not arrived yet")))?;
    row.get("body").map_err(retry)
}
