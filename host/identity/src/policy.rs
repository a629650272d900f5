//! Route policies: whether a route needs a caller, and which roles.

use std::sync::Arc;

use serde::Deserialize;

use crate::{Principal, TokenError, Verifier};

/// What a route asks of its callers (`auth` in `[[trigger.http]]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// A verified token; the default.
    #[default]
    Required,
    /// A token is verified when one is sent; without one the caller is anonymous.
    Optional,
    /// No token is looked at.
    Public,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutePolicy {
    pub auth: Auth,
    /// The caller needs one of these, when any are listed.
    pub roles: Vec<String>,
}

/// Why a request does not reach the component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No bearer token where one is required: 401.
    NoToken,
    /// A token that does not verify: 401 `invalid_token`.
    BadToken(TokenError),
    /// A verified caller without any of the route's roles: 403.
    MissingRole(Vec<String>),
}

/// Checks a request's `Authorization` header against the route's policy; `Ok(None)` is an
/// anonymous caller the policy lets through.
pub async fn authorize(
    verifier: &Verifier,
    policy: &RoutePolicy,
    authorization: Option<&[u8]>,
) -> Result<Option<Arc<Principal>>, Refusal> {
    if policy.auth == Auth::Public {
        return Ok(None);
    }
    let Some(token) = authorization.and_then(bearer_token) else {
        return match policy.auth {
            Auth::Required => Err(Refusal::NoToken),
            _ => Ok(None),
        };
    };
    let caller = verifier.verify(token).await.map_err(Refusal::BadToken)?;
    if !policy.roles.is_empty() && !policy.roles.iter().any(|role| caller.has_role(role)) {
        return Err(Refusal::MissingRole(policy.roles.clone()));
    }
    Ok(Some(caller))
}

/// The token of a `Bearer` credential (RFC 6750; the scheme is case-insensitive). An empty
/// or non-ASCII one is returned as is, so the caller learns it is invalid.
fn bearer_token(header: &[u8]) -> Option<&str> {
    let header = std::str::from_utf8(header).ok()?.trim();
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bearer_credential_carries_a_token() {
        assert_eq!(bearer_token(b"Bearer abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(bearer_token(b"bearer  abc "), Some("abc"));
        assert_eq!(bearer_token(b"Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token(b"Bearer"), None);
        assert_eq!(bearer_token(b"\xff\xfe"), None);
    }
}
