//! Verifies bearer tokens against the trusted issuers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Validation};

use crate::cache::VerifiedTokens;
use crate::dev_issuer::DevIssuer;
use crate::fetch::Fetcher;
use crate::keys::{ACCEPTED, KeySet, VerificationKey};
use crate::principal::{Principal, roles_at};
use crate::remote::RemoteKeys;
use crate::{IdentityError, TokenError};

/// Clocks of the issuer and of Joule may differ by this much.
const LEEWAY_SECONDS: u64 = 30;

/// Whom Joule trusts, as configured by `JOULE_OIDC_*`.
#[derive(Debug, Clone, Default)]
pub struct IdentitySettings {
    /// Issuer URLs; none turns the development issuer on.
    pub issuers: Vec<String>,
    /// A token must name one of these in `aud`.
    pub audiences: Vec<String>,
    /// Dotted path of the claim holding the caller's roles.
    pub roles_claim: String,
}

impl IdentitySettings {
    pub const DEFAULT_ROLES_CLAIM: &str = "roles";

    pub(crate) fn roles_path(&self) -> Vec<String> {
        self.roles_claim.split('.').map(str::to_string).collect()
    }
}

pub struct Verifier {
    issuers: HashMap<String, Keys>,
    verified: VerifiedTokens,
    /// Checks shared by every token; the algorithm is set per key.
    validation: Validation,
    roles_path: Vec<String>,
    dev_jwks: Option<serde_json::Value>,
}

enum Keys {
    Remote(Arc<RemoteKeys>),
    Fixed(KeySet),
}

impl Verifier {
    /// Trusts the configured issuers, or the development issuer when none is configured.
    /// External issuers' keys are fetched now; one that cannot be reached is logged and
    /// tried again when a token of it arrives.
    pub async fn new(settings: &IdentitySettings, dev: impl FnOnce() -> Result<DevIssuer, IdentityError>) -> Result<Self, IdentityError> {
        if settings.roles_claim.split('.').any(str::is_empty) {
            return Err(IdentityError::Settings(format!(
                "JOULE_OIDC_ROLES_CLAIM {:?} is not a dotted claim path such as realm_access.roles",
                settings.roles_claim
            )));
        }
        if settings.issuers.is_empty() {
            let dev = dev()?;
            tracing::warn!(
                issuer = DevIssuer::ISSUER,
                "no JOULE_OIDC_ISSUER: the development issuer is on; `joule token` prints tokens it accepts"
            );
            let audiences = if settings.audiences.is_empty() { vec![DevIssuer::AUDIENCE.to_string()] } else { settings.audiences.clone() };
            let mut keys = KeySet::default();
            let (kid, key) = dev.verification_key();
            keys.insert(Some(kid), key);
            let issuers = HashMap::from([(DevIssuer::ISSUER.to_string(), Keys::Fixed(keys))]);
            return Ok(Self::with(issuers, &audiences, settings, Some(dev.jwks())));
        }
        if settings.audiences.is_empty() {
            return Err(IdentityError::Settings(
                "JOULE_OIDC_ISSUER is set but JOULE_OIDC_AUDIENCE is not: name the audience Joule's tokens are issued for".into(),
            ));
        }
        let fetcher = Fetcher::new();
        let mut issuers = HashMap::new();
        for issuer in &settings.issuers {
            if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
                return Err(IdentityError::Settings(format!("JOULE_OIDC_ISSUER {issuer:?} is not an http(s) URL")));
            }
            let keys = RemoteKeys::new(issuer.clone(), fetcher.clone());
            issuers.insert(issuer.clone(), Keys::Remote(keys));
        }
        let verifier = Self::with(issuers, &settings.audiences, settings, None);
        for keys in verifier.issuers.values() {
            if let Keys::Remote(keys) = keys
                && let Err(e) = keys.load().await
            {
                tracing::warn!(issuer = %keys.issuer(), error = %e, "failed to fetch the issuer's keys; tokens of it are refused until they can be");
            }
        }
        Ok(verifier)
    }

    fn with(issuers: HashMap<String, Keys>, audiences: &[String], settings: &IdentitySettings, dev_jwks: Option<serde_json::Value>) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_audience(audiences);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        Self { issuers, verified: VerifiedTokens::default(), validation, roles_path: settings.roles_path(), dev_jwks }
    }

    /// The development issuer's public keys, when it is the one trusted.
    pub fn dev_jwks(&self) -> Option<&serde_json::Value> {
        self.dev_jwks.as_ref()
    }

    pub async fn verify(&self, token: &str) -> Result<Arc<Principal>, TokenError> {
        if let Some(caller) = self.verified.get(token) {
            return Ok(caller);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
        }
        // Which issuer's keys to check the signature with; the signature then covers `iss`.
        let unverified: serde_json::Value =
            jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        let issuer = unverified.get("iss").and_then(serde_json::Value::as_str).unwrap_or_default();
        let keys = self.issuers.get(issuer).ok_or_else(|| TokenError::UnknownIssuer(issuer.to_string()))?;
        let key = match keys {
            Keys::Remote(remote) => remote.find(header.kid.as_deref(), header.alg).await?,
            Keys::Fixed(set) => set.find(header.kid.as_deref(), header.alg)?,
        };
        let caller = Arc::new(self.check(token, issuer, &key)?);
        // `check` required `exp`; what is left of it, less the leeway it allowed.
        let expires = caller.claims.get("exp").and_then(serde_json::Value::as_u64).unwrap_or_default();
        let left = Duration::from_secs(expires.saturating_sub(now()));
        self.verified.insert(token, caller.clone(), left);
        Ok(caller)
    }

    fn check(&self, token: &str, issuer: &str, key: &VerificationKey) -> Result<Principal, TokenError> {
        let mut validation = self.validation.clone();
        validation.algorithms = vec![key.algorithm];
        validation.set_issuer(&[issuer]);
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key.key, &validation)
            .map_err(|e| TokenError::from_validation(&e))?;
        let claims = data.claims;
        let subject = claims.get("sub").and_then(serde_json::Value::as_str).unwrap_or_default();
        if subject.is_empty() {
            return Err(TokenError::Rejected("the token's sub claim is empty".into()));
        }
        Ok(Principal {
            subject: subject.to_string(),
            issuer: issuer.to_string(),
            roles: roles_at(&claims, &self.roles_path),
            claims,
        })
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}
