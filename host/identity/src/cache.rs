//! Tokens already verified, so a caller's next requests cost a map lookup instead of a
//! signature check. A token is remembered until it expires or for [`MAX_KEEP`], whichever
//! comes first, so a key the issuer withdraws stops counting within the time its key set is
//! cached anyway.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Principal;

const MAX_KEEP: Duration = Duration::from_secs(300);
/// Tokens remembered at most; past it, the expired ones are dropped, or all of them.
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub(crate) struct VerifiedTokens {
    tokens: Mutex<HashMap<String, Remembered>>,
}

struct Remembered {
    caller: Arc<Principal>,
    until: Instant,
}

impl VerifiedTokens {
    pub(crate) fn get(&self, token: &str) -> Option<Arc<Principal>> {
        let tokens = self.lock();
        let remembered = tokens.get(token)?;
        (Instant::now() < remembered.until).then(|| remembered.caller.clone())
    }

    /// Remembers `caller` for `token`, which is valid for `valid_for` more.
    pub(crate) fn insert(&self, token: &str, caller: Arc<Principal>, valid_for: Duration) {
        let now = Instant::now();
        let until = now + valid_for.min(MAX_KEEP);
        let mut tokens = self.lock();
        if tokens.len() >= CAPACITY {
            tokens.retain(|_, remembered| remembered.until > now);
            if tokens.len() >= CAPACITY {
                tokens.clear();
            }
        }
        tokens.insert(token.to_string(), Remembered { caller, until });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Remembered>> {
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(subject: &str) -> Arc<Principal> {
        Arc::new(Principal { subject: subject.into(), issuer: "i".into(), roles: vec![], claims: serde_json::json!({}) })
    }

    #[test]
    fn a_token_is_remembered_until_it_expires() {
        let cache = VerifiedTokens::default();
        cache.insert("a", caller("a"), Duration::from_secs(60));
        cache.insert("gone", caller("gone"), Duration::ZERO);
        assert_eq!(cache.get("a").map(|c| c.subject.clone()).as_deref(), Some("a"));
        assert!(cache.get("gone").is_none());
        assert!(cache.get("unknown").is_none());
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY + 5 {
            cache.insert(&format!("t{i}"), caller("s"), Duration::from_secs(60));
        }
        assert!(cache.lock().len() <= CAPACITY);
        assert!(cache.get(&format!("t{}", CAPACITY + 4)).is_some(), "the newest is kept");
    }
}
