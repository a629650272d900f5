//! The caller's charging tokens: `/me/tokens`. A token is what a charge point sees when a
//! driver badges (an RFID card) or starts from the app; its `uid` belongs to one account
//! across the platform, so a charge point's idToken always names one driver.

pub mod input;
pub mod store;

use chrono::{DateTime, Utc};
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request};
use uuid::Uuid;

use crate::{Result, path, profile};

pub const ACTIVE: &str = "ACTIVE";
pub const BLOCKED: &str = "BLOCKED";
/// Never stored: a token whose `expiresAt` has passed shows this, whatever its status.
pub const EXPIRED: &str = "EXPIRED";
pub const APP: &str = "APP";

/// The most tokens one account holds: enough for a fleet's cards.
const MAX_TOKENS: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Upper case: OCPP compares idTokens without regard to case.
    pub uid: String,
    pub subject: String,
    pub kind: String,
    /// As stored: ACTIVE or BLOCKED.
    pub status: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Token {
    /// The status a charge point should act on at `now`.
    pub fn shown_status(&self, now: DateTime<Utc>) -> &str {
        if self.expires_at.is_some_and(|at| at <= now) { EXPIRED } else { &self.status }
    }

    /// The token as the API shows it at `now`.
    pub fn view(&self, now: DateTime<Utc>) -> Value {
        json!({
            "uid": self.uid,
            "type": self.kind,
            "status": self.shown_status(now),
            "expiresAt": self.expires_at.map(api::time),
            "createdAt": api::time(self.created_at),
        })
    }
}

pub fn list(_: Request, _: Params) -> Result {
    let caller = Caller::require()?;
    let now = Utc::now();
    profile::store::ensure(caller.subject(), now)?;
    Ok(api::json(200, &json!({ "items": views(&store::list(caller.subject())?, now) })))
}

pub fn issue(request: Request, _: Params) -> Result {
    let caller = Caller::require()?;
    let now = Utc::now();
    let new = input::new_token(&api::read_json(&request)?, now)?;
    profile::store::claim(caller.subject(), now)?;
    if store::count(caller.subject())? >= MAX_TOKENS {
        return Err(ApiError::conflict("too_many_tokens", format!("an account holds at most {MAX_TOKENS} tokens")));
    }
    let token = Token {
        // An app token needs no card: the platform makes its uid, 36 characters as OCPP allows.
        uid: new.uid.unwrap_or_else(|| Uuid::new_v4().hyphenated().to_string().to_ascii_uppercase()),
        subject: caller.subject().to_string(),
        kind: new.kind,
        status: ACTIVE.to_string(),
        expires_at: new.expires_at,
        created_at: now,
    };
    if !store::insert(&token, now)? {
        return Err(ApiError::conflict("token_taken", format!("the token uid {:?} is already registered", token.uid))
            .with_details(json!({ "uid": token.uid })));
    }
    api::publish(
        "token.issued.v1",
        &json!({
            "subject": token.subject,
            "uid": token.uid,
            "type": token.kind,
            "status": token.shown_status(now),
            "expiresAt": token.expires_at.map(api::time),
        }),
    )?;
    let mut response = api::json(201, &token.view(now));
    response.set_header("location", format!("/api/v1/me/tokens/{}", token.uid));
    Ok(response)
}

pub fn get(_: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    let now = Utc::now();
    profile::store::ensure(caller.subject(), now)?;
    Ok(api::json(200, &owned(caller.subject(), &params)?.view(now)))
}

pub fn revoke(_: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    profile::store::claim(caller.subject(), Utc::now())?;
    let token = owned(caller.subject(), &params)?;
    store::delete(&token.uid)?;
    api::publish("token.revoked.v1", &json!({ "subject": token.subject, "uid": token.uid }))?;
    Ok(api::no_content())
}

/// The token `uid` of the path, held by `subject`. Another account's token is a 404, as an
/// unknown uid is: a driver learns nothing of the tokens of others.
pub fn owned(subject: &str, params: &Params) -> Result<Token> {
    let raw = params.get("uid").unwrap_or_default();
    let uid = path::param(params, "uid").and_then(|uid| input::normalise_uid(&uid));
    let found = match uid {
        Some(uid) => store::find(&uid)?,
        None => None,
    };
    found.filter(|token| token.subject == subject).ok_or_else(|| ApiError::not_found("token", raw))
}

pub fn views(tokens: &[Token], now: DateTime<Utc>) -> Vec<Value> {
    tokens.iter().map(|token| token.view(now)).collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_token_past_its_expiry_shows_expired_whatever_its_status() {
        let now = Utc::now();
        let mut token = Token {
            uid: "04A2B3C4".into(),
            subject: "ada".into(),
            kind: "RFID".into(),
            status: BLOCKED.into(),
            expires_at: Some(now + Duration::hours(1)),
            created_at: now,
        };
        assert_eq!(token.shown_status(now), BLOCKED);
        token.status = ACTIVE.into();
        assert_eq!(token.view(now)["status"], ACTIVE);
        token.expires_at = Some(now);
        assert_eq!(token.view(now)["status"], EXPIRED);
        token.expires_at = None;
        assert_eq!(token.view(now)["expiresAt"], Value::Null);
    }
}
