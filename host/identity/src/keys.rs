//! Verification keys: which JWKs Joule accepts, and picking the one a token names.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::TokenError;

/// The algorithms a token may be signed with: asymmetric ones only, so that knowing an
/// issuer's public key never lets anyone sign.
pub(crate) const ACCEPTED: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// One public key and the one algorithm it verifies.
pub(crate) struct VerificationKey {
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

/// An issuer's keys by `kid`; keys published without one are kept apart.
#[derive(Default)]
pub(crate) struct KeySet {
    named: HashMap<String, Arc<VerificationKey>>,
    unnamed: Vec<Arc<VerificationKey>>,
}

impl KeySet {
    /// The usable keys of a JWKS document; keys of other types, curves or uses are skipped.
    pub(crate) fn from_jwks(document: &serde_json::Value) -> Result<Self, String> {
        let keys = document.get("keys").and_then(serde_json::Value::as_array).ok_or("the JWKS has no \"keys\" list")?;
        let mut set = Self::default();
        for raw in keys {
            let Ok(jwk) = serde_json::from_value::<Jwk>(raw.clone()) else { continue };
            if let Some(key) = verification_key(&jwk) {
                set.insert(jwk.common.key_id.clone(), key);
            }
        }
        Ok(set)
    }

    pub(crate) fn insert(&mut self, kid: Option<String>, key: VerificationKey) {
        match kid {
            Some(kid) => {
                self.named.insert(kid, Arc::new(key));
            }
            None => self.unnamed.push(Arc::new(key)),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.named.len() + self.unnamed.len()
    }

    /// The key a token's header names, or, when it names none, the issuer's only key for
    /// its algorithm.
    pub(crate) fn find(&self, kid: Option<&str>, algorithm: Algorithm) -> Result<Arc<VerificationKey>, TokenError> {
        let key = match kid {
            Some(kid) => self.named.get(kid).cloned().ok_or_else(|| TokenError::UnknownKey(format!("{kid:?}")))?,
            None => {
                let mut fitting = self.named.values().chain(&self.unnamed).filter(|k| k.algorithm == algorithm);
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => key.clone(),
                    _ => return Err(TokenError::UnknownKey(format!("for {algorithm:?} that a token without a kid could use"))),
                }
            }
        };
        if key.algorithm != algorithm {
            return Err(TokenError::Rejected(format!(
                "the token says {algorithm:?} but its key is for {:?}",
                key.algorithm
            )));
        }
        Ok(key)
    }
}

/// The key and algorithm of a JWK Joule can verify with: RSA for RS256, P-256 for ES256,
/// Ed25519 for EdDSA. A key whose `alg` names another algorithm, or whose `use` is
/// encryption, is not one.
pub(crate) fn verification_key(jwk: &Jwk) -> Option<VerificationKey> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => Algorithm::EdDSA,
        _ => return None,
    };
    let declared = jwk.common.key_algorithm;
    let fits = match declared {
        None => true,
        Some(KeyAlgorithm::RS256) => algorithm == Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => algorithm == Algorithm::ES256,
        Some(KeyAlgorithm::EdDSA) => algorithm == Algorithm::EdDSA,
        Some(_) => false,
    };
    if !fits {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerificationKey { algorithm, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(keys: serde_json::Value) -> KeySet {
        KeySet::from_jwks(&serde_json::json!({ "keys": keys })).unwrap()
    }

    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn only_signing_keys_of_the_accepted_kinds_are_kept() {
        let keys = set(serde_json::json!([
            { "kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "ed" },
            { "kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "enc", "use": "enc" },
            { "kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "other-alg", "alg": "ES256" },
            { "kty": "oct", "k": "c2VjcmV0", "kid": "hmac" },
            { "kty": "EC", "crv": "P-384", "x": ED_X, "y": ED_X, "kid": "p384" },
            { "kty": "unknown", "kid": "odd" },
        ]));
        assert_eq!(keys.len(), 1);
        assert!(keys.find(Some("ed"), Algorithm::EdDSA).is_ok());
        assert!(matches!(keys.find(Some("hmac"), Algorithm::EdDSA), Err(TokenError::UnknownKey(_))));
        assert!(matches!(keys.find(Some("ed"), Algorithm::RS256), Err(TokenError::Rejected(_))), "alg must fit the key");
    }

    #[test]
    fn a_token_without_a_kid_gets_the_only_key_for_its_algorithm() {
        let one = set(serde_json::json!([{ "kty": "OKP", "crv": "Ed25519", "x": ED_X }]));
        assert!(one.find(None, Algorithm::EdDSA).is_ok());
        assert!(one.find(None, Algorithm::RS256).is_err());
        let two = set(serde_json::json!([
            { "kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "a" },
            { "kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "b" },
        ]));
        assert!(two.find(None, Algorithm::EdDSA).is_err(), "ambiguous");
    }

    #[test]
    fn a_document_without_keys_is_refused() {
        assert!(KeySet::from_jwks(&serde_json::json!({ "issuer": "x" })).is_err());
    }
}
