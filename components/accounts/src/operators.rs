//! The operators' view: every account under `/accounts`, and setting a token's status, as
//! when a card is reported stolen. Only the `operator` role gets here; a driver gets 403.

use chrono::Utc;
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Page, Problems};
use serde_json::json;
use spin_sdk::http::{Params, Request};

use crate::tokens::{self, input::UID_PROBLEM};
use crate::{Result, path, profile, vehicles};

/// `GET /accounts`: a page of accounts in the order they were first used; `?tokenUid=`
/// finds the one holding a token.
pub fn list(request: Request, _: Params) -> Result {
    Caller::require_operator()?;
    let query = api::query_params(&request)?;
    let mut problems = Problems::new();
    let page = Page::from_query(&query, &mut problems);
    let token_uid = query.iter().find(|(name, _)| name == "tokenUid").and_then(|(_, uid)| {
        let normalised = tokens::input::normalise_uid(uid);
        if normalised.is_none() {
            problems.add("tokenUid", UID_PROBLEM);
        }
        normalised
    });
    problems.finish()?;
    let (accounts, more) = profile::store::list(&page, token_uid.as_deref())?;
    let next_cursor = more.then(|| accounts.last().map(|a| Page::cursor_after(&a.id.to_string()))).flatten();
    Ok(api::json(200, &json!({ "items": accounts, "nextCursor": next_cursor })))
}

/// `GET /accounts/{subject}`: the profile with the account's vehicles and tokens.
pub fn get(_: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let (subject, raw) = subject(&params);
    let profile = subject.map(|s| profile::store::find(&s)).transpose()?.flatten();
    let profile = profile.ok_or_else(|| ApiError::not_found("account", raw))?;
    let now = Utc::now();
    let mut account = serde_json::to_value(&profile).expect("a profile serialises");
    account["vehicles"] = json!(vehicles::store::list(&profile.subject)?);
    account["tokens"] = json!(tokens::views(&tokens::store::list(&profile.subject)?, now));
    Ok(api::json(200, &account))
}

/// `PUT /accounts/{subject}/tokens/{uid}/status`: blocks or unblocks a token.
pub fn set_token_status(request: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let status = tokens::input::status(&api::read_json(&request)?)?;
    let (subject, _) = subject(&params);
    let uid = path::param(&params, "uid").and_then(|uid| tokens::input::normalise_uid(&uid));
    let not_found = || ApiError::not_found("token", params.get("uid").unwrap_or_default());
    let (Some(subject), Some(uid)) = (subject, uid) else { return Err(not_found()) };
    if !tokens::store::claim(&subject, &uid)? {
        return Err(not_found());
    }
    let mut token = tokens::store::find(&uid)?.ok_or_else(not_found)?;
    let now = Utc::now();
    if token.status == status {
        return Ok(api::json(200, &token.view(now)));
    }
    tokens::store::set_status(&uid, &status, now)?;
    let previous = std::mem::replace(&mut token.status, status);
    api::publish(
        "token.status-changed.v1",
        &json!({
            "subject": token.subject,
            "uid": token.uid,
            "status": token.status,
            "previousStatus": previous,
            "changedAt": api::time(now),
        }),
    )?;
    Ok(api::json(200, &token.view(now)))
}

/// The decoded subject of the path, if it decodes, and the path's text for a 404.
fn subject(params: &Params) -> (Option<String>, &str) {
    (path::param(params, "subject"), params.get("subject").unwrap_or_default())
}
