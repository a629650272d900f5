//! What can go wrong: setting up the issuers, and verifying one token.

/// The identity settings or the development issuer's key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{0}")]
    Settings(String),
    #[error("the development issuer's key {path}: {message}")]
    DevKey { path: std::path::PathBuf, message: String },
    #[error("failed to sign a token: {0}")]
    Signing(String),
}

/// Why a token was not accepted. The message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the bearer token is not a well-formed JWT: {0}")]
    Malformed(String),
    #[error("tokens signed with {0} are not accepted; the issuer must sign with RS256, ES256 or EdDSA")]
    Algorithm(String),
    #[error("the token's issuer {0:?} is not trusted here")]
    UnknownIssuer(String),
    #[error("the token's issuer has no key {0}")]
    UnknownKey(String),
    #[error("{0}")]
    Rejected(String),
    /// The issuer's keys could not be fetched, so no token of it can be checked now.
    #[error("the keys of issuer {0:?} cannot be fetched right now; retry shortly")]
    KeysUnavailable(String),
}

impl TokenError {
    pub(crate) fn from_validation(error: &jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        let message = match error.kind() {
            ErrorKind::ExpiredSignature => "the token has expired".to_string(),
            ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".to_string(),
            ErrorKind::InvalidAudience => "the token was issued for another audience".to_string(),
            ErrorKind::InvalidIssuer => "the token's issuer does not match".to_string(),
            ErrorKind::InvalidSignature => "the token's signature does not verify".to_string(),
            ErrorKind::InvalidAlgorithm => "the token's algorithm does not match its key".to_string(),
            ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
            _ => format!("the token is not valid: {error}"),
        };
        Self::Rejected(message)
    }
}
