//! The development issuer: with no OpenID Connect provider configured, Joule signs tokens
//! itself with an Ed25519 key kept in the state directory, so the embedded platform is
//! usable (`joule token`) and still checks every token the way it would a provider's.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, KeypairBytes};
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::IdentityError;
use crate::keys::{VerificationKey, verification_key};

const KEY_FILE: &str = "dev-issuer.pem";

pub struct DevIssuer {
    encoding: EncodingKey,
    jwk: Jwk,
    kid: String,
}

impl DevIssuer {
    /// The `iss` of its tokens.
    pub const ISSUER: &str = "joule-dev";
    /// The `aud` of its tokens when no audience is configured.
    pub const AUDIENCE: &str = "joule";

    /// Loads the key from `state_dir`, or makes one there.
    pub fn open(state_dir: &Path) -> Result<Self, IdentityError> {
        let path = state_dir.join(KEY_FILE);
        let error = |message: String| IdentityError::DevKey { path: path.clone(), message };
        if !path.exists() {
            create(state_dir, &path).map_err(|e| error(format!("cannot be created: {e}")))?;
        }
        let pem = std::fs::read_to_string(&path).map_err(|e| error(format!("cannot be read: {e}")))?;
        let signing = SigningKey::from_pkcs8_pem(&pem).map_err(|e| error(format!("is not an Ed25519 private key: {e}")))?;
        let der = private_key_der(signing.to_bytes()).map_err(|e| error(e.to_string()))?;
        let encoding = EncodingKey::from_ed_der(der.as_bytes());
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA).map_err(|e| error(e.to_string()))?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| error(e.to_string()))?;
        jwk.common.key_id = Some(kid.clone());
        Ok(Self { encoding, jwk, kid })
    }

    /// A token for `subject` with `roles` at `roles_claim` (a dotted path), valid for `ttl`.
    pub fn issue(&self, subject: &str, roles: &[String], roles_claim: &str, audience: &str, ttl: Duration) -> Result<String, IdentityError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut claims = serde_json::json!({
            "iss": Self::ISSUER,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl.as_secs(),
        });
        // Nest the roles as the verifier will look for them.
        let mut at = &mut claims;
        let mut steps = roles_claim.split('.').peekable();
        while let Some(step) = steps.next() {
            let object = at.as_object_mut().expect("built as objects");
            at = if steps.peek().is_some() {
                object.entry(step).or_insert_with(|| serde_json::json!({}))
            } else {
                object.insert(step.to_string(), serde_json::json!(roles));
                break;
            };
        }
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| IdentityError::Signing(e.to_string()))
    }

    /// The public key as a JWKS document, for other services to verify its tokens.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.jwk] })
    }

    pub(crate) fn verification_key(&self) -> (String, VerificationKey) {
        let key = verification_key(&self.jwk).expect("an Ed25519 JWK is a verification key");
        (self.kid.clone(), key)
    }
}

/// Writes a new key where only this user can read it. The file appears whole or not at
/// all: two processes starting together both end up with whichever landed first.
fn create(state_dir: &Path, path: &PathBuf) -> std::io::Result<()> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(std::io::Error::other)?;
    let pem = KeypairBytes { secret_key: seed, public_key: None }
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(std::io::Error::other)?;
    std::fs::create_dir_all(state_dir)?;
    let mut draft = tempfile_in(state_dir)?;
    draft.1.write_all(pem.as_bytes())?;
    draft.1.sync_all()?;
    let linked = std::fs::hard_link(&draft.0, path);
    let _ = std::fs::remove_file(&draft.0);
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// PKCS#8 v1, without the public key: the form jsonwebtoken signs with.
fn private_key_der(secret_key: [u8; 32]) -> ed25519_dalek::pkcs8::Result<ed25519_dalek::pkcs8::SecretDocument> {
    KeypairBytes { secret_key, public_key: None }.to_pkcs8_der()
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(format!(".{KEY_FILE}.{}", std::process::id()));
    let file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IdentitySettings, Verifier};

    fn settings() -> IdentitySettings {
        IdentitySettings { roles_claim: "realm_access.roles".into(), ..Default::default() }
    }

    #[tokio::test]
    async fn its_tokens_verify_and_carry_the_roles_where_the_verifier_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let dev = DevIssuer::open(dir.path()).unwrap();
        let token = dev.issue("driver-1", &["driver".into()], "realm_access.roles", "joule", Duration::from_secs(60)).unwrap();
        let verifier = Verifier::new(&settings(), || DevIssuer::open(dir.path())).await.unwrap();
        let caller = verifier.verify(&token).await.unwrap();
        assert_eq!((caller.subject.as_str(), caller.issuer.as_str()), ("driver-1", DevIssuer::ISSUER));
        assert_eq!(caller.roles, ["driver"]);
        assert_eq!(verifier.dev_jwks().unwrap()["keys"][0]["kty"], "OKP");
    }

    #[tokio::test]
    async fn the_key_is_kept_and_another_directory_has_another() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let token = DevIssuer::open(a.path()).unwrap().issue("s", &[], "roles", "joule", Duration::from_secs(60)).unwrap();
        let same = Verifier::new(&settings(), || DevIssuer::open(a.path())).await.unwrap();
        assert!(same.verify(&token).await.is_ok(), "reopened, the key is the same");
        let other = Verifier::new(&settings(), || DevIssuer::open(b.path())).await.unwrap();
        assert!(matches!(other.verify(&token).await, Err(crate::TokenError::UnknownKey(_))));
        let mode = std::fs::metadata(a.path().join(KEY_FILE)).unwrap().permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o077, 0, "only the owner may read the key");
    }

    #[test]
    fn a_damaged_key_file_is_named_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        std::fs::write(&path, "not a key").unwrap();
        let error = DevIssuer::open(dir.path()).err().expect("a damaged key is refused").to_string();
        assert!(error.contains(&path.display().to_string()) && error.contains("not an Ed25519 private key"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key", "the file is not replaced");
    }

    #[tokio::test]
    async fn an_expired_or_foreign_audience_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dev = DevIssuer::open(dir.path()).unwrap();
        let verifier = Verifier::new(&settings(), || DevIssuer::open(dir.path())).await.unwrap();
        let other_audience = dev.issue("s", &[], "roles", "billing", Duration::from_secs(60)).unwrap();
        assert!(matches!(verifier.verify(&other_audience).await, Err(crate::TokenError::Rejected(m)) if m.contains("audience")));
        let garbage = verifier.verify("not.a.token").await;
        assert!(matches!(garbage, Err(crate::TokenError::Malformed(_))), "{garbage:?}");
    }
}
