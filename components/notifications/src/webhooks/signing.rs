//! Standard Webhooks signatures: `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with
//! the endpoint's secret (`whsec_` and the base64 key). The timestamp is signed too, so a
//! receiver that refuses old timestamps cannot be replayed an old delivery.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SECRET_PREFIX: &str = "whsec_";
/// 32 bytes: the key length of HMAC-SHA256's block-sized security.
const SECRET_BYTES: usize = 32;

/// A new secret from the system's random source.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut key = [0u8; SECRET_BYTES];
    getrandom::fill(&mut key)?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
}

/// The headers that sign `body`, sent as delivery `id` at `timestamp`.
pub fn headers(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<[(&'static str, String); 3], String> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).ok_or("the secret is not a whsec_ secret")?;
    let key = STANDARD.decode(encoded).map_err(|e| format!("the secret is not base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    Ok([
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", format!("v1,{signature}")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed with the `standardwebhooks` Python package (1.3.0):
    /// `Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(1614265330, timezone.utc), body)`.
    #[test]
    fn signs_as_standard_webhooks_receivers_verify() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let [id, timestamp, signature] = headers(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(id.1, "msg_p5jXN8AQM9LWM0D4loKWxJek");
        assert_eq!(timestamp.1, "1614265330");
        assert_eq!(signature.1, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn new_secrets_are_keys_that_sign() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert!(headers(&a, "id", 1, "{}").is_ok());
        assert!(headers("nope", "id", 1, "{}").is_err());
    }
}
