//! GETs JSON documents (discovery, JWKS) from issuers, over HTTPS or plain HTTP.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Discovery documents and key sets are small; a larger answer is not one.
const MAX_DOCUMENT: usize = 1 << 20;
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub(crate) struct Fetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl Fetcher {
    /// Trusts the system's certificate authorities (where private CAs are installed) and
    /// Mozilla's, so it works on images without a CA bundle too.
    pub(crate) fn new() -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for certificate in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(certificate);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
        Self { client: Client::builder(TokioExecutor::new()).build(connector) }
    }

    pub(crate) async fn json(&self, url: &str) -> Result<serde_json::Value, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("{url} is not a URL: {e}"))?;
        let fetch = async {
            let response = self.client.get(uri).await.map_err(|e| format!("GET {url} failed: {e}"))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("GET {url} answered {status}"));
            }
            let body = Limited::new(response.into_body(), MAX_DOCUMENT)
                .collect()
                .await
                .map_err(|e| format!("reading {url} failed: {e}"))?
                .to_bytes();
            serde_json::from_slice(&body).map_err(|e| format!("{url} did not answer JSON: {e}"))
        };
        tokio::time::timeout(TIMEOUT, fetch).await.unwrap_or_else(|_| Err(format!("GET {url} took longer than {TIMEOUT:?}")))
    }
}
