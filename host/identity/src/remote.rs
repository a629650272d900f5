//! An external issuer's keys: found through its OpenID Connect discovery document, cached,
//! and fetched again when a token names a key the cache lacks (at most every
//! [`MIN_REFETCH`]) or when the cache is older than [`MAX_AGE`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use jsonwebtoken::Algorithm;

use crate::TokenError;
use crate::fetch::Fetcher;
use crate::keys::{KeySet, VerificationKey};

/// How often a token naming an unknown key may make Joule ask the issuer again: a stream
/// of forged `kid`s must not become a stream of requests to the issuer.
const MIN_REFETCH: Duration = Duration::from_secs(5);
/// Keys the issuer withdrew stop being accepted within this long.
const MAX_AGE: Duration = Duration::from_secs(600);

pub(crate) struct RemoteKeys {
    issuer: String,
    fetcher: Fetcher,
    keys: ArcSwap<Cached>,
    /// Held while fetching, so callers that miss together wait for one fetch.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

#[derive(Default)]
struct Cached {
    set: KeySet,
    fetched: Option<Instant>,
}

impl RemoteKeys {
    pub(crate) fn new(issuer: String, fetcher: Fetcher) -> Arc<Self> {
        Arc::new(Self { issuer, fetcher, keys: ArcSwap::from_pointee(Cached::default()), fetching: Default::default() })
    }

    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Fetches the keys now; used at startup, so the first requests find them cached.
    pub(crate) async fn load(&self) -> Result<usize, String> {
        let mut last = self.fetching.lock().await;
        *last = Some(Instant::now());
        self.fetch().await
    }

    pub(crate) async fn find(self: &Arc<Self>, kid: Option<&str>, algorithm: Algorithm) -> Result<Arc<VerificationKey>, TokenError> {
        let cached = self.keys.load();
        let found = cached.set.find(kid, algorithm);
        if cached.fetched.is_some_and(|at| at.elapsed() > MAX_AGE) {
            let keys = self.clone();
            tokio::spawn(async move { keys.refetch().await });
        }
        match found {
            Err(TokenError::UnknownKey(_)) => {}
            found => return found,
        }
        drop(cached);
        self.refetch().await;
        let cached = self.keys.load();
        if cached.fetched.is_none() {
            return Err(TokenError::KeysUnavailable(self.issuer.clone()));
        }
        cached.set.find(kid, algorithm)
    }

    /// Fetches the keys unless that was tried within [`MIN_REFETCH`].
    async fn refetch(&self) {
        let mut last = self.fetching.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFETCH) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(e) = self.fetch().await {
            tracing::warn!(issuer = %self.issuer, error = %e, "failed to fetch the issuer's keys; keeping the ones cached");
        }
    }

    async fn fetch(&self) -> Result<usize, String> {
        let discovery_url = format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'));
        let discovery = self.fetcher.json(&discovery_url).await?;
        // OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it
        // was fetched for, or it is someone else's.
        if discovery.get("issuer").and_then(serde_json::Value::as_str) != Some(self.issuer.as_str()) {
            return Err(format!("{discovery_url} names another issuer: {}", discovery.get("issuer").unwrap_or(&serde_json::Value::Null)));
        }
        let jwks_uri = discovery
            .get("jwks_uri")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| format!("{discovery_url} has no jwks_uri"))?;
        let set = KeySet::from_jwks(&self.fetcher.json(jwks_uri).await?).map_err(|e| format!("{jwks_uri}: {e}"))?;
        let count = set.len();
        if count == 0 {
            return Err(format!("{jwks_uri} holds no RS256, ES256 or EdDSA signing key"));
        }
        self.keys.store(Arc::new(Cached { set, fetched: Some(Instant::now()) }));
        tracing::info!(issuer = %self.issuer, keys = count, "fetched the issuer's keys");
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// Serves a discovery document and a one-key JWKS over HTTP/1.1, counting JWKS fetches.
    async fn issuer() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let fetches = Arc::new(AtomicUsize::new(0));
        let (issuer, counted) = (base.clone(), fetches.clone());
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = vec![0u8; 4096];
                let read = stream.read(&mut request).await.unwrap();
                let request = String::from_utf8_lossy(&request[..read]).into_owned();
                let body = if request.starts_with("GET /.well-known/openid-configuration ") {
                    serde_json::json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks") })
                } else {
                    counted.fetch_add(1, Ordering::SeqCst);
                    serde_json::json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "kid": "k1",
                        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }] })
                }
                .to_string();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        (base, fetches)
    }

    #[tokio::test]
    async fn unknown_kids_do_not_make_a_fetch_each() {
        let (issuer, fetches) = issuer().await;
        let keys = RemoteKeys::new(issuer, Fetcher::new());
        assert_eq!(keys.load().await, Ok(1));
        assert!(keys.find(Some("k1"), Algorithm::EdDSA).await.is_ok());
        let misses: Vec<_> = (0..20)
            .map(|i| {
                let keys = keys.clone();
                tokio::spawn(async move { keys.find(Some(&format!("forged-{i}")), Algorithm::EdDSA).await })
            })
            .collect();
        for miss in misses {
            assert!(matches!(miss.await.unwrap(), Err(TokenError::UnknownKey(_))));
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "fetched again within {MIN_REFETCH:?} of the last fetch");
    }

    #[tokio::test]
    async fn a_discovery_document_of_another_issuer_is_refused() {
        let (issuer, _) = issuer().await;
        let keys = RemoteKeys::new(format!("{issuer}/"), Fetcher::new());
        let error = keys.load().await.unwrap_err();
        assert!(error.contains("names another issuer"), "{error}");
        assert!(matches!(keys.find(Some("k1"), Algorithm::EdDSA).await, Err(TokenError::KeysUnavailable(_))));
    }
}
