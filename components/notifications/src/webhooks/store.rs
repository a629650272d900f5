//! Webhook endpoints and deliveries in the component's database.

use chrono::{DateTime, Utc};
use joule_sdk::api;
use joule_sdk::db::{self, Error, Row};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    #[serde(skip)]
    pub secret: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub updated_at: DateTime<Utc>,
}

const ENDPOINT_COLUMNS: &str =
    "id, url, event_types, description, secret, enabled, disabled_reason, created_at, updated_at";

fn endpoint(row: Row<'_>) -> Result<Endpoint, Error> {
    let event_types: String = row.get("event_types")?;
    Ok(Endpoint {
        id: row.get("id")?,
        url: row.get("url")?,
        event_types: serde_json::from_str(&event_types).unwrap_or_default(),
        description: row.get("description")?,
        secret: row.get("secret")?,
        enabled: row.get("enabled")?,
        disabled_reason: row.get("disabled_reason")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub fn insert(endpoint: &Endpoint) -> Result<(), Error> {
    db::execute(
        "INSERT INTO webhook_endpoints (id, url, event_types, description, secret, enabled, failed_in_a_row,
                                        disabled_reason, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, NULL, $7, $8)",
        &[
            &endpoint.id,
            &endpoint.url,
            &serde_json::to_string(&endpoint.event_types).expect("strings serialise"),
            &endpoint.description,
            &endpoint.secret,
            &endpoint.enabled,
            &endpoint.created_at,
            &endpoint.updated_at,
        ],
    )
    .map(drop)
}

/// Writes an edited endpoint; enabling it again starts its count of failures afresh.
pub fn update(endpoint: &Endpoint) -> Result<(), Error> {
    db::execute(
        "UPDATE webhook_endpoints SET url = $2, event_types = $3, description = $4, enabled = $5,
                disabled_reason = $6, updated_at = $7,
                failed_in_a_row = CASE WHEN $5 THEN 0 ELSE failed_in_a_row END
         WHERE id = $1",
        &[
            &endpoint.id,
            &endpoint.url,
            &serde_json::to_string(&endpoint.event_types).expect("strings serialise"),
            &endpoint.description,
            &endpoint.enabled,
            &endpoint.disabled_reason,
            &endpoint.updated_at,
        ],
    )
    .map(drop)
}

pub fn delete(id: Uuid) -> Result<bool, Error> {
    db::execute("DELETE FROM webhook_deliveries WHERE endpoint_id = $1", &[&id])?;
    Ok(db::execute("DELETE FROM webhook_endpoints WHERE id = $1", &[&id])? == 1)
}

pub fn find(id: Uuid) -> Result<Option<Endpoint>, Error> {
    let rows = db::query(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"), &[&id])?;
    rows.first().map(endpoint).transpose()
}

/// Every endpoint, oldest first; an operator keeps a handful, not thousands.
pub fn list() -> Result<Vec<Endpoint>, Error> {
    let rows = db::query(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id"), &[])?;
    rows.iter().map(endpoint).collect()
}

pub fn enabled() -> Result<Vec<Endpoint>, Error> {
    let rows = db::query(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE enabled ORDER BY id"), &[])?;
    rows.iter().map(endpoint).collect()
}

/// Records a delivery of an event to an endpoint; false if it was recorded before.
pub fn add_delivery(id: Uuid, endpoint_id: Uuid, event_id: &str, event_type: &str, body: &str) -> Result<bool, Error> {
    let added = db::execute(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, body, status, attempts, created_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6) ON CONFLICT (endpoint_id, event_id) DO NOTHING",
        &[&id, &endpoint_id, &event_id, &event_type, &body, &Utc::now()],
    )?;
    Ok(added == 1)
}

/// A delivery still to be made, with its endpoint.
pub struct Pending {
    pub body: String,
    pub endpoint: Endpoint,
}

/// Counts this attempt of a pending delivery and reads it; none if it is finished or gone.
/// The write comes first: on the embedded database it takes this database's turn before
/// anything is read, so the outcome's write cannot conflict.
pub fn attempt(id: Uuid, attempt: u32) -> Result<Option<Pending>, Error> {
    let counted = db::execute(
        "UPDATE webhook_deliveries SET attempts = $2 WHERE id = $1 AND status = 'pending'",
        &[&id, &i64::from(attempt)],
    )?;
    if counted == 0 {
        return Ok(None);
    }
    let rows = db::query("SELECT endpoint_id, body FROM webhook_deliveries WHERE id = $1", &[&id])?;
    let Some(row) = rows.first() else { return Ok(None) };
    let Some(endpoint) = find(row.get("endpoint_id")?)? else { return Ok(None) };
    Ok(Some(Pending { body: row.get("body")?, endpoint }))
}

/// The receiver took it: the endpoint's failures in a row end.
pub fn delivered(id: Uuid, endpoint_id: Uuid) -> Result<(), Error> {
    db::execute(
        "UPDATE webhook_deliveries SET status = 'delivered', last_error = NULL, finished_at = $2 WHERE id = $1",
        &[&id, &Utc::now()],
    )?;
    db::execute("UPDATE webhook_endpoints SET failed_in_a_row = 0 WHERE id = $1", &[&endpoint_id]).map(drop)
}

/// Every attempt failed: the delivery is given up, and the endpoint disabled once
/// `disable_after` deliveries in a row have been. Returns whether this disabled it.
pub fn failed(id: Uuid, endpoint_id: Uuid, error: &str, disable_after: i64) -> Result<bool, Error> {
    let now = Utc::now();
    db::execute(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = $2, finished_at = $3 WHERE id = $1",
        &[&id, &error, &now],
    )?;
    db::execute("UPDATE webhook_endpoints SET failed_in_a_row = failed_in_a_row + 1 WHERE id = $1", &[&endpoint_id])?;
    let disabled = db::execute(
        "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $3, updated_at = $4
         WHERE id = $1 AND enabled AND failed_in_a_row >= $2",
        &[&endpoint_id, &disable_after, &format!("{disable_after} deliveries in a row failed; the last: {error}"), &now],
    )?;
    Ok(disabled == 1)
}

/// A delivery as the API shows it.
pub fn deliveries(endpoint_id: Uuid, limit: i64) -> Result<Vec<serde_json::Value>, Error> {
    let rows = db::query(
        "SELECT id, event_id, event_type, status, attempts, last_error, created_at, finished_at
         FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2",
        &[&endpoint_id, &limit],
    )?;
    let time = |at: Option<DateTime<Utc>>| at.map(api::time);
    rows.iter()
        .map(|row| {
            Ok(serde_json::json!({
                "id": row.get::<Uuid>("id")?,
                "eventId": row.get::<String>("event_id")?,
                "eventType": row.get::<String>("event_type")?,
                "status": row.get::<String>("status")?,
                "attempts": row.get::<i64>("attempts")?,
                "lastError": row.get::<Option<String>>("last_error")?,
                "createdAt": time(row.get("created_at")?),
                "finishedAt": time(row.get("finished_at")?),
            }))
        })
        .collect()
}
