//! The caller's own profile: `GET /me` and `PATCH /me`. A profile is created on first use,
//! so a driver never signs up: their first request with a token makes their account.

mod input;
pub mod store;

use chrono::{DateTime, Utc};
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError};
use serde::Serialize;
use serde_json::json;
use spin_sdk::http::{Params, Request};
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The account's place in the operators' list; not shown.
    #[serde(skip)]
    pub id: Uuid,
    pub subject: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub notification_preferences: Preferences,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub updated_at: DateTime<Utc>,
}

/// Whether the driver wants notifications on each channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Preferences {
    pub email: bool,
    pub webhook: bool,
    pub log: bool,
}

impl Default for Preferences {
    /// Every channel on until the driver turns it off; a channel still needs an address to reach them.
    fn default() -> Self {
        Self { email: true, webhook: true, log: true }
    }
}

pub fn get(_: Request, _: Params) -> Result {
    let caller = Caller::require()?;
    store::ensure(caller.subject(), Utc::now())?;
    Ok(api::json(200, &existing(caller.subject())?))
}

pub fn update(request: Request, _: Params) -> Result {
    let caller = Caller::require()?;
    let patch = input::profile_patch(&api::read_json(&request)?)?;
    store::claim(caller.subject(), Utc::now())?;
    let mut profile = existing(caller.subject())?;
    let changed = patch.apply(&mut profile);
    if changed.is_empty() {
        return Ok(api::json(200, &profile));
    }
    profile.updated_at = Utc::now();
    store::update(&profile)?;
    // The names of the fields only: their values may be contact details, which no event carries.
    let event = json!({ "subject": profile.subject, "changed": changed, "updatedAt": api::time(profile.updated_at) });
    api::publish("account.updated.v1", &event)?;
    Ok(api::json(200, &profile))
}

/// The profile of an account this invocation has ensured exists.
fn existing(subject: &str) -> Result<Profile> {
    store::find(subject)?.ok_or_else(|| {
        eprintln!("the account of {subject:?} was ensured but is missing");
        ApiError::new(500, "internal_error", "the request failed inside the service")
    })
}
