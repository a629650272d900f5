//! OCPP Authorize (1.6 and 2.0.1): may this idTag / idToken charge? The host routes only
//! Authorize here; stations decide who connects and answer the rest.
//!
//! Read-only: it records and publishes nothing, so concurrent Authorizes never conflict.

use chrono::{DateTime, SecondsFormat, Utc};
use joule_sdk::ocpp::{CallError, ChargePoint, Connection, ErrorCode, Refusal, Request};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::tokens::{self, Token, input, store};

/// The OCPP handler of the accounts component.
pub struct Accounts;

impl ChargePoint for Accounts {
    /// Never called: the host asks the stations component who may connect. Refusing keeps a
    /// misrouted connection out rather than letting it in unchecked.
    fn connect(_: Connection) -> Result<(), Refusal> {
        Err(Refusal::UnknownChargePoint)
    }

    fn handle(request: Request) -> Result<Value, CallError> {
        match request.action.as_str() {
            "Authorize" => authorize(&request),
            other => Err(CallError::not_supported(other)),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Authorize16 {
    id_tag: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Authorize201 {
    id_token: IdToken,
}

/// Only the uid counts: a uid names one token whatever its type.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdToken {
    id_token: String,
}

fn authorize(request: &Request) -> Result<Value, CallError> {
    let uid = if request.is_v16() {
        request.payload_as::<Authorize16>()?.id_tag
    } else {
        request.payload_as::<Authorize201>()?.id_token.id_token
    };
    // A uid no token could have is simply unknown.
    let token = match input::normalise_uid(&uid) {
        Some(uid) => store::find(&uid).map_err(|e| {
            eprintln!("database error: {e:?}");
            CallError::new(ErrorCode::InternalError, "the token could not be read")
        })?,
        None => None,
    };
    Ok(answer(request.is_v16(), token.as_ref(), Utc::now()))
}

/// The OCPP status for `token` at `now`; both versions' enums have these four.
fn status(token: Option<&Token>, now: DateTime<Utc>) -> &'static str {
    match token.map(|t| t.shown_status(now)) {
        Some(tokens::ACTIVE) => "Accepted",
        Some(tokens::BLOCKED) => "Blocked",
        Some(tokens::EXPIRED) => "Expired",
        // No token, or a stored status this code does not know: never let it charge.
        _ => "Invalid",
    }
}

/// The Authorize answer of the charge point's version; the expiry only when the token has one.
fn answer(v16: bool, token: Option<&Token>, now: DateTime<Utc>) -> Value {
    let status = status(token, now);
    // To the second, as `ocpp::now` writes times, which every charge point can read.
    let expiry = token.and_then(|t| t.expires_at).map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true));
    let (info, expiry_key) = if v16 { ("idTagInfo", "expiryDate") } else { ("idTokenInfo", "cacheExpiryDateTime") };
    let mut body = json!({ "status": status });
    if let Some(expiry) = expiry {
        body[expiry_key] = json!(expiry);
    }
    json!({ info: body })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn token(status: &str, expires_at: Option<DateTime<Utc>>) -> Token {
        Token {
            uid: "04A2B3C4".into(),
            subject: "ada".into(),
            kind: "RFID".into(),
            status: status.into(),
            expires_at,
            created_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn active_blocked_expired_and_unknown() {
        let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
        let later = Some(now + Duration::days(1));
        assert_eq!(status(Some(&token(tokens::ACTIVE, None)), now), "Accepted");
        assert_eq!(status(Some(&token(tokens::ACTIVE, later)), now), "Accepted");
        assert_eq!(status(Some(&token(tokens::BLOCKED, later)), now), "Blocked");
        assert_eq!(status(Some(&token(tokens::ACTIVE, Some(now))), now), "Expired");
        assert_eq!(status(Some(&token(tokens::BLOCKED, Some(now - Duration::days(1)))), now), "Expired");
        assert_eq!(status(Some(&token("SUSPENDED", None)), now), "Invalid");
        assert_eq!(status(None, now), "Invalid");
    }

    #[test]
    fn answers_take_each_versions_shape() {
        let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
        let expiring = token(tokens::ACTIVE, Some(Utc.with_ymd_and_hms(2025, 7, 1, 8, 30, 0).unwrap()));
        assert_eq!(
            answer(true, Some(&expiring), now),
            json!({ "idTagInfo": { "status": "Accepted", "expiryDate": "2025-07-01T08:30:00Z" } })
        );
        assert_eq!(
            answer(false, Some(&expiring), now),
            json!({ "idTokenInfo": { "status": "Accepted", "cacheExpiryDateTime": "2025-07-01T08:30:00Z" } })
        );
        assert_eq!(answer(true, None, now), json!({ "idTagInfo": { "status": "Invalid" } }));
        assert_eq!(
            answer(false, Some(&token(tokens::BLOCKED, None)), now),
            json!({ "idTokenInfo": { "status": "Blocked" } })
        );
    }

    #[test]
    fn payloads_of_both_versions_parse() {
        let request = |protocol: &str, payload: &str| Request {
            charge_point_id: "CP-1".into(),
            protocol: protocol.into(),
            action: "Authorize".into(),
            message_id: "1".into(),
            payload: payload.into(),
        };
        let v16 = request(joule_sdk::ocpp::OCPP16, r#"{"idTag":"04a2b3c4"}"#);
        assert_eq!(v16.payload_as::<Authorize16>().unwrap().id_tag, "04a2b3c4");
        let v201 = request(joule_sdk::ocpp::OCPP201, r#"{"idToken":{"idToken":"X1","type":"ISO14443"}}"#);
        assert_eq!(v201.payload_as::<Authorize201>().unwrap().id_token.id_token, "X1");
        let other = Request { action: "StartTransaction".into(), ..request(joule_sdk::ocpp::OCPP16, "{}") };
        assert_eq!(Accounts::handle(other).unwrap_err().code, ErrorCode::NotSupported);
    }
}
