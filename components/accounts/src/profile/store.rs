//! The accounts table. Every change to an account (its profile, vehicles or tokens) first
//! takes the account's turn with [`claim`], so changes of one account run one after the other.

use chrono::{DateTime, Utc};
use joule_sdk::api::Page;
use joule_sdk::db::{self, Error, Row};
use uuid::Uuid;

use super::{Preferences, Profile};

const COLUMNS: &str =
    "id, subject, display_name, email, phone, locale, notify_email, notify_webhook, notify_log, created_at, updated_at";

/// Creates the subject's empty profile unless it exists. It writes before anything is read,
/// so simultaneous first requests of one subject both succeed, on either backend.
pub fn ensure(subject: &str, now: DateTime<Utc>) -> Result<(), Error> {
    let defaults = Preferences::default();
    db::execute(
        "INSERT INTO accounts (subject, id, notify_email, notify_webhook, notify_log, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (subject) DO NOTHING",
        &[&subject, &joule_sdk::ids::time_ordered(), &defaults.email, &defaults.webhook, &defaults.log, &now, &now],
    )?;
    Ok(())
}

/// Ensures the account and holds its row (the writer on SQLite) until the unit of work ends,
/// so what the change reads next, such as which plates are taken, stays true until it commits.
pub fn claim(subject: &str, now: DateTime<Utc>) -> Result<(), Error> {
    ensure(subject, now)?;
    db::execute("UPDATE accounts SET updated_at = updated_at WHERE subject = $1", &[&subject])?;
    Ok(())
}

pub fn find(subject: &str) -> Result<Option<Profile>, Error> {
    let rows = db::query(&format!("SELECT {COLUMNS} FROM accounts WHERE subject = $1"), &[&subject])?;
    rows.first().map(profile).transpose()
}

pub fn update(profile: &Profile) -> Result<(), Error> {
    let preferences = &profile.notification_preferences;
    db::execute(
        "UPDATE accounts SET display_name = $2, email = $3, phone = $4, locale = $5,
                notify_email = $6, notify_webhook = $7, notify_log = $8, updated_at = $9
         WHERE subject = $1",
        &[
            &profile.subject,
            &profile.display_name,
            &profile.email,
            &profile.phone,
            &profile.locale,
            &preferences.email,
            &preferences.webhook,
            &preferences.log,
            &profile.updated_at,
        ],
    )?;
    Ok(())
}

/// One page of accounts in the order they were first used, and whether more follow; with
/// `token_uid`, only the account holding that token.
pub fn list(page: &Page, token_uid: Option<&str>) -> Result<(Vec<Profile>, bool), Error> {
    // One extra row tells whether another page exists.
    let fetch = i64::from(page.limit) + 1;
    let after = page.after.as_deref().and_then(|id| Uuid::parse_str(id).ok()).unwrap_or(Uuid::nil());
    let rows = match token_uid {
        None => {
            db::query(&format!("SELECT {COLUMNS} FROM accounts WHERE id > $1 ORDER BY id LIMIT $2"), &[&after, &fetch])?
        }
        Some(uid) => db::query(
            &format!(
                "SELECT {COLUMNS} FROM accounts WHERE id > $1 AND subject IN (SELECT subject FROM tokens WHERE uid = $3)
                 ORDER BY id LIMIT $2"
            ),
            &[&after, &fetch, &uid],
        )?,
    };
    let mut profiles = rows.iter().map(profile).collect::<Result<Vec<_>, _>>()?;
    let more = profiles.len() > page.limit as usize;
    profiles.truncate(page.limit as usize);
    Ok((profiles, more))
}

fn profile(row: Row<'_>) -> Result<Profile, Error> {
    Ok(Profile {
        id: row.get("id")?,
        subject: row.get("subject")?,
        display_name: row.get("display_name")?,
        email: row.get("email")?,
        phone: row.get("phone")?,
        locale: row.get("locale")?,
        notification_preferences: Preferences {
            email: row.get("notify_email")?,
            webhook: row.get("notify_webhook")?,
            log: row.get("notify_log")?,
        },
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}
