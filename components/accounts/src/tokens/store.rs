//! The tokens table. `uid` is its primary key, so a uid belongs to one account across the
//! platform, and two accounts registering one card at once get one 201 and one 409.

use chrono::{DateTime, Utc};
use joule_sdk::db::{self, Error, Row};

use super::Token;

const COLUMNS: &str = "uid, subject, type, status, expires_at, created_at";

/// The account's tokens, oldest first.
pub fn list(subject: &str) -> Result<Vec<Token>, Error> {
    let rows =
        db::query(&format!("SELECT {COLUMNS} FROM tokens WHERE subject = $1 ORDER BY created_at, uid"), &[&subject])?;
    rows.iter().map(token).collect()
}

pub fn find(uid: &str) -> Result<Option<Token>, Error> {
    let rows = db::query(&format!("SELECT {COLUMNS} FROM tokens WHERE uid = $1"), &[&uid])?;
    rows.first().map(token).transpose()
}

pub fn count(subject: &str) -> Result<usize, Error> {
    let rows = db::query("SELECT COUNT(*) AS n FROM tokens WHERE subject = $1", &[&subject])?;
    let n: i64 = rows.first().map(|row| row.get("n")).transpose()?.unwrap_or(0);
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Adds a token; `false` when some account already has its uid.
pub fn insert(token: &Token, now: DateTime<Utc>) -> Result<bool, Error> {
    let inserted = db::execute(
        "INSERT INTO tokens (uid, subject, type, status, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (uid) DO NOTHING",
        &[&token.uid, &token.subject, &token.kind, &token.status, &token.expires_at, &token.created_at, &now],
    )?;
    Ok(inserted > 0)
}

/// Holds the token's row until the unit of work ends, so the status it then reads is the
/// one it changes; `false` when `subject` has no token `uid`.
pub fn claim(subject: &str, uid: &str) -> Result<bool, Error> {
    Ok(db::execute("UPDATE tokens SET status = status WHERE uid = $1 AND subject = $2", &[&uid, &subject])? > 0)
}

pub fn set_status(uid: &str, status: &str, at: DateTime<Utc>) -> Result<(), Error> {
    db::execute("UPDATE tokens SET status = $2, updated_at = $3 WHERE uid = $1", &[&uid, &status, &at])?;
    Ok(())
}

pub fn delete(uid: &str) -> Result<(), Error> {
    db::execute("DELETE FROM tokens WHERE uid = $1", &[&uid])?;
    Ok(())
}

fn token(row: Row<'_>) -> Result<Token, Error> {
    Ok(Token {
        uid: row.get("uid")?,
        subject: row.get("subject")?,
        kind: row.get("type")?,
        status: row.get("status")?,
        expires_at: row.get("expires_at")?,
        created_at: row.get("created_at")?,
    })
}
