//! The accounts' charging tokens, as their events said: which driver a charge point's idTag
//! names, and whether it may charge. Events may come late or twice; each token keeps the
//! newest event's state.

use chrono::{DateTime, Utc};
use joule_sdk::db;
use joule_sdk::events::{Event, HandlerError};
use serde::Deserialize;

use crate::replica::retry;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenEvent {
    subject: String,
    uid: String,
    status: Option<String>,
    expires_at: Option<DateTime<Utc>>,
}

/// What a charge point's idTag is, to the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The driver's token may charge.
    Accepted(String),
    Blocked,
    Expired,
    /// Nobody holds it, or it was revoked.
    Invalid,
}

impl Verdict {
    /// The OCPP authorization status (the same word in 1.6 and 2.0.1).
    pub fn status(&self) -> &'static str {
        match self {
            Verdict::Accepted(_) => "Accepted",
            Verdict::Blocked => "Blocked",
            Verdict::Expired => "Expired",
            Verdict::Invalid => "Invalid",
        }
    }
}

/// Applies a `token.*` event.
pub fn apply(event: &Event) -> Result<(), HandlerError> {
    let token: TokenEvent = event.data_as()?;
    let at: DateTime<Utc> = event
        .time
        .parse()
        .map_err(|_| HandlerError::Permanent(format!("{} has no readable time: {:?}", event.event_type, event.time)))?;
    let uid = token.uid.to_ascii_uppercase();
    let (status, expires_at) = match event.event_type.as_str() {
        "token.revoked.v1" => ("REVOKED".to_string(), None),
        _ => (token.status.unwrap_or_else(|| "ACTIVE".into()), token.expires_at),
    };
    // A status change says nothing of the expiry: the row keeps the one it has.
    let expiry = if event.event_type == "token.status-changed.v1" { "tokens.expires_at" } else { "excluded.expires_at" };
    db::execute(
        &format!(
            "INSERT INTO tokens (uid, driver_id, status, expires_at, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (uid) DO UPDATE SET driver_id = excluded.driver_id, status = excluded.status,
                 expires_at = {expiry}, updated_at = excluded.updated_at
             WHERE tokens.updated_at <= excluded.updated_at"
        ),
        &[&uid, &token.subject, &status, &expires_at, &at],
    )
    .map(drop)
    .map_err(retry)
}

/// What the idTag is at `now`.
pub fn judge(id_tag: &str, now: DateTime<Utc>) -> Result<Verdict, db::Error> {
    let rows = db::query("SELECT driver_id, status, expires_at FROM tokens WHERE uid = $1", &[&id_tag.to_ascii_uppercase()])?;
    let Some(row) = rows.first() else { return Ok(Verdict::Invalid) };
    let (status, expires_at): (String, Option<DateTime<Utc>>) = (row.get("status")?, row.get("expires_at")?);
    Ok(verdict(&status, expires_at, now, row.get("driver_id")?))
}

fn verdict(status: &str, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>, driver_id: String) -> Verdict {
    match status {
        "BLOCKED" => Verdict::Blocked,
        "EXPIRED" => Verdict::Expired,
        "ACTIVE" if expires_at.is_some_and(|at| at <= now) => Verdict::Expired,
        "ACTIVE" => Verdict::Accepted(driver_id),
        _ => Verdict::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_charges_only_while_active_and_unexpired() {
        let now: DateTime<Utc> = "2026-03-02T12:00:00Z".parse().unwrap();
        let later = Some(now + chrono::TimeDelta::hours(1));
        let earlier = Some(now - chrono::TimeDelta::hours(1));
        assert_eq!(verdict("ACTIVE", None, now, "ada".into()), Verdict::Accepted("ada".into()));
        assert_eq!(verdict("ACTIVE", later, now, "ada".into()), Verdict::Accepted("ada".into()));
        assert_eq!(verdict("ACTIVE", earlier, now, "ada".into()), Verdict::Expired);
        assert_eq!(verdict("BLOCKED", later, now, "ada".into()), Verdict::Blocked);
        assert_eq!(verdict("EXPIRED", None, now, "ada".into()), Verdict::Expired);
        assert_eq!(verdict("REVOKED", None, now, "ada".into()), Verdict::Invalid);
        assert_eq!(Verdict::Blocked.status(), "Blocked");
    }
}
