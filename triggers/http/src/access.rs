//! The answers to requests a route's policy refuses (RFC 6750, section 3).

use http::{HeaderValue, StatusCode, header};
use joule_http_server::{Body, response};
use joule_identity::{Refusal, TokenError};

/// Where the development issuer's public keys are served, when it is on.
pub const DEV_JWKS_PATH: &str = "/.well-known/jwks.json";

/// How long a caller should wait when the issuer's keys cannot be fetched.
const KEYS_RETRY_AFTER: &str = "5";

pub fn refused(refusal: Refusal) -> http::Response<Body> {
    let (status, code, message, challenge) = match refusal {
        Refusal::NoToken => (
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this route needs a bearer token: send Authorization: Bearer <JWT>".to_string(),
            r#"Bearer realm="joule""#.to_string(),
        ),
        Refusal::BadToken(TokenError::KeysUnavailable(issuer)) => {
            let message = TokenError::KeysUnavailable(issuer).to_string();
            let mut response = response::error(StatusCode::SERVICE_UNAVAILABLE, "identity_unavailable", message);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(KEYS_RETRY_AFTER));
            return response;
        }
        Refusal::BadToken(error) => {
            let message = error.to_string();
            let challenge = format!(r#"Bearer realm="joule", error="invalid_token", error_description="{}""#, quotable(&message));
            (StatusCode::UNAUTHORIZED, "invalid_token", message, challenge)
        }
        Refusal::MissingRole(roles) => (
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this route needs one of the roles: {}", roles.join(", ")),
            r#"Bearer realm="joule", error="insufficient_scope""#.to_string(),
        ),
    };
    let mut response = response::error(status, code, message);
    if let Ok(challenge) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

/// 429 for a caller over the route's rate limit, saying when to come back.
pub fn rate_limited(wait: std::time::Duration) -> http::Response<Body> {
    let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    let mut response = response::error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests on this route; retry in {seconds} s"),
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// The message as the inside of a quoted-string: printable ASCII without quotes or
/// backslashes, as RFC 6750 allows for `error_description`.
fn quotable(message: &str) -> String {
    message.chars().map(|c| if c == '"' || c == '\\' || !(' '..='~').contains(&c) { '\'' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_status_and_challenge() {
        let challenge = |r: &http::Response<Body>| r.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().to_string();
        let none = refused(Refusal::NoToken);
        assert_eq!((none.status(), challenge(&none)), (StatusCode::UNAUTHORIZED, r#"Bearer realm="joule""#.into()));
        let bad = refused(Refusal::BadToken(TokenError::UnknownIssuer("ev\"il".into())));
        assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            challenge(&bad),
            r#"Bearer realm="joule", error="invalid_token", error_description="the token's issuer 'ev''il' is not trusted here""#
        );
        let role = refused(Refusal::MissingRole(vec!["operator".into()]));
        assert_eq!(role.status(), StatusCode::FORBIDDEN);
        assert!(challenge(&role).contains("insufficient_scope"));
        let down = refused(Refusal::BadToken(TokenError::KeysUnavailable("https://id.example".into())));
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.headers()[header::RETRY_AFTER], "5");
    }
}
