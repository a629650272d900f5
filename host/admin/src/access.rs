//! Who may use the admin API: callers presenting the bearer token from `JOULE_ADMIN_TOKEN`,
//! compared in constant time; or, on a loopback address and only when asked, anyone.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use joule_http_server::response::{self, Body};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

#[derive(Debug, Clone)]
pub enum Access {
    /// Callers must send `Authorization: Bearer <token>`.
    Token(String),
    /// No token: only for a loopback listener, by explicit choice.
    OpenOnLoopback,
    /// No token was given: the API refuses everything; `/metrics` still answers.
    Disabled,
}

/// Why the admin API cannot start as configured.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("--admin-no-auth is allowed only on a loopback address, not on {0}; set JOULE_ADMIN_TOKEN instead")]
    OpenBeyondLoopback(SocketAddr),
}

impl Access {
    /// The access an admin listener on `address` gets from a token and the no-auth flag.
    pub fn choose(token: Option<String>, no_auth: bool, address: SocketAddr) -> Result<Self, AccessError> {
        match (token.filter(|t| !t.is_empty()), no_auth) {
            (Some(token), _) => Ok(Self::Token(token)),
            (None, true) if address.ip().is_loopback() => Ok(Self::OpenOnLoopback),
            (None, true) => Err(AccessError::OpenBeyondLoopback(address)),
            (None, false) => Ok(Self::Disabled),
        }
    }

    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), Refused> {
        match self {
            Self::OpenOnLoopback => Ok(()),
            Self::Disabled => Err(Refused::Disabled),
            Self::Token(token) => {
                let presented = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .ok_or(Refused::MissingToken)?;
                // Digests first, so the comparison takes the same time whatever the lengths.
                let (presented, expected) = (Sha256::digest(presented.as_bytes()), Sha256::digest(token.as_bytes()));
                match bool::from(presented.ct_eq(&expected)) {
                    true => Ok(()),
                    false => Err(Refused::WrongToken),
                }
            }
        }
    }
}

pub(crate) enum Refused {
    Disabled,
    MissingToken,
    WrongToken,
}

impl Refused {
    pub(crate) fn response(&self) -> Response<Body> {
        let (status, code, message) = match self {
            Self::Disabled => (
                StatusCode::FORBIDDEN,
                "admin_api_disabled",
                "the admin API is off: start joule with JOULE_ADMIN_TOKEN set (or --admin-no-auth on loopback)",
            ),
            Self::MissingToken => {
                (StatusCode::UNAUTHORIZED, "unauthorized", "send the admin token as Authorization: Bearer <token>")
            }
            Self::WrongToken => (StatusCode::UNAUTHORIZED, "unauthorized", "the admin token is not valid"),
        };
        let mut response = response::error(status, code, message);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
        headers
    }

    #[test]
    fn only_the_token_passes() {
        let access = Access::Token("s3cret-token".into());
        assert!(access.check(&bearer("s3cret-token")).is_ok());
        assert!(matches!(access.check(&bearer("s3cret-tokeN")), Err(Refused::WrongToken)));
        assert!(matches!(access.check(&bearer("s3cret")), Err(Refused::WrongToken)));
        assert!(matches!(access.check(&HeaderMap::new()), Err(Refused::MissingToken)));
    }

    #[test]
    fn no_auth_is_for_loopback_only() {
        let loopback: SocketAddr = "127.0.0.1:3001".parse().unwrap();
        let public: SocketAddr = "0.0.0.0:3001".parse().unwrap();
        assert!(matches!(Access::choose(None, true, loopback), Ok(Access::OpenOnLoopback)));
        assert!(Access::choose(None, true, public).is_err());
        assert!(matches!(Access::choose(None, false, public), Ok(Access::Disabled)));
        assert!(matches!(Access::choose(Some(String::new()), false, loopback), Ok(Access::Disabled)));
        assert!(matches!(Access::choose(Some("t".into()), true, public), Ok(Access::Token(_))));
    }
}
