//! Charge-point passwords (OCPP security profile 1, HTTP Basic), kept only as Argon2id PHC
//! strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), with the crate's defaults, which
//! are OWASP's recommended minimum.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// The PHC string of `password`, with a fresh random salt (getrandom: wasi:random on wasip2).
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|hash| hash.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` is the one `stored` was made from; a malformed `stored` matches nothing.
/// The parameters are read from `stored`, so a hash made with other costs still verifies.
pub fn verify(password: &str, stored: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), stored).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$"), "{stored}");
        assert!(!stored.contains("correct"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterY", &stored));
        assert!(!verify("correct horse battery", "not a hash"));
        assert_ne!(hash("correct horse battery").unwrap(), stored, "each hash has its own salt");
    }
}
