//! Reading token bodies and uids. A uid is an OCPP idToken: at most 36 characters, here of
//! letters, digits, `-`, `_` and `:`, and compared without regard to case.

use chrono::{DateTime, Utc};
use joule_sdk::api::{ApiError, Problems, Reader};
use serde_json::Value;

use super::{ACTIVE, APP, BLOCKED};

pub const TYPES: [&str; 2] = ["RFID", APP];
/// The statuses an operator sets; EXPIRED follows from `expiresAt` alone.
pub const SETTABLE: [&str; 2] = [ACTIVE, BLOCKED];
const MAX_UID: usize = 36;

pub const UID_PROBLEM: &str = "must be 1 to 36 letters, digits, '-', '_' or ':'";

#[derive(Debug, Clone, PartialEq)]
pub struct NewToken {
    /// `None` for an app token whose uid the platform makes.
    pub uid: Option<String>,
    pub kind: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The body of `POST /me/tokens`; `now` is when it is issued.
pub fn new_token(body: &Value, now: DateTime<Utc>) -> Result<NewToken, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&["uid", "type", "expiresAt"], &mut problems);
    let kind = one_of(&reader, "type", &TYPES, &mut problems);
    let uid = match reader.optional_string("uid", MAX_UID, &mut problems) {
        Some(Some(text)) => match normalise_uid(&text) {
            Some(uid) => Some(Some(uid)),
            None => {
                problems.add(reader.path("uid"), UID_PROBLEM);
                None
            }
        },
        absent_or_bad => absent_or_bad,
    };
    // A card has its uid printed in it; only an app token can be given one.
    if kind.as_deref() == Some("RFID") && uid == Some(None) {
        problems.add(reader.path("uid"), "is required for an RFID token");
    }
    let expires_at = reader.optional_timestamp("expiresAt", &mut problems);
    if let Some(Some(at)) = expires_at
        && at <= now
    {
        problems.add(reader.path("expiresAt"), "must be in the future");
    }
    problems.finish()?;
    let complete = "every field was checked above";
    Ok(NewToken { uid: uid.expect(complete), kind: kind.expect(complete), expires_at: expires_at.expect(complete) })
}

/// The body of `PUT /accounts/{subject}/tokens/{uid}/status`.
pub fn status(body: &Value) -> Result<String, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&["status"], &mut problems);
    let status = one_of(&reader, "status", &SETTABLE, &mut problems);
    problems.finish()?;
    Ok(status.expect("checked above"))
}

/// A uid in its stored form, upper case; `None` when it is not one.
pub fn normalise_uid(text: &str) -> Option<String> {
    let fits = (1..=MAX_UID).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':'));
    fits.then(|| text.to_ascii_uppercase())
}

fn one_of(reader: &Reader<'_>, key: &str, allowed: &[&str], problems: &mut Problems) -> Option<String> {
    let value = reader.string(key, 16, problems)?;
    if !allowed.contains(&value.as_str()) {
        problems.add(reader.path(key), format!("must be one of {}", allowed.join(", ")));
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use serde_json::json;

    use super::*;

    fn details(body: Value) -> Value {
        let error = new_token(&body, Utc::now()).unwrap_err();
        assert_eq!(error.status, 422);
        error.details.unwrap()
    }

    #[test]
    fn an_rfid_token_keeps_its_uid_in_upper_case() {
        let token = new_token(&json!({ "type": "RFID", "uid": "04a2:b3-c4_d5" }), Utc::now()).unwrap();
        assert_eq!(token.uid.as_deref(), Some("04A2:B3-C4_D5"));
        assert_eq!(token.expires_at, None);
    }

    #[test]
    fn an_app_token_may_leave_its_uid_to_the_platform() {
        let later = (Utc::now() + Duration::days(30)).to_rfc3339();
        let token = new_token(&json!({ "type": "APP", "expiresAt": later }), Utc::now()).unwrap();
        assert_eq!(token.uid, None);
        assert!(token.expires_at.is_some());
        assert_eq!(new_token(&json!({ "type": "APP", "uid": null }), Utc::now()).unwrap().uid, None);
    }

    #[test]
    fn names_each_bad_field() {
        let found = details(json!({ "type": "RFID" }));
        assert_eq!(found["uid"], "is required for an RFID token");
        let found =
            details(json!({ "type": "card", "uid": "04 A2", "expiresAt": "2001-01-01T00:00:00Z", "pin": "1234" }));
        assert_eq!(found["type"], "must be one of RFID, APP");
        assert_eq!(found["uid"], UID_PROBLEM);
        assert_eq!(found["expiresAt"], "must be in the future");
        assert_eq!(found["pin"], "is not a known field");
        let found = details(json!({ "type": "APP", "uid": "x".repeat(37) }));
        assert_eq!(found["uid"], "must be at most 36 characters");
    }

    #[test]
    fn uids_are_ocpp_id_tokens() {
        assert_eq!(normalise_uid("abc-1_2:3").as_deref(), Some("ABC-1_2:3"));
        assert!(normalise_uid(&"A".repeat(36)).is_some());
        for bad in ["", "a b", "a/b", "ä", &"A".repeat(37)] {
            assert_eq!(normalise_uid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_operator_sets_active_or_blocked() {
        assert_eq!(status(&json!({ "status": "BLOCKED" })).unwrap(), "BLOCKED");
        for bad in [json!({ "status": "EXPIRED" }), json!({ "status": "blocked" }), json!({})] {
            assert_eq!(status(&bad).unwrap_err().status, 422, "{bad}");
        }
    }
}
