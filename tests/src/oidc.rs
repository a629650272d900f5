//! A real OpenID Connect provider process (npm `oauth2-mock-server`, driven by
//! `tests/oidc/provider.mjs`), for the tests of token verification.

use std::process::Stdio;

use tokio::io::AsyncBufReadExt as _;
use tokio::process::{Child, Command};

use crate::repo_root;

pub struct OidcProvider {
    pub issuer: String,
    _child: Child,
}

impl OidcProvider {
    /// Starts the provider; it needs Node.js and `npm ci --prefix tests/oidc` (as `.ci/run` does).
    pub async fn start() -> Self {
        let dir = repo_root().join("tests/oidc");
        assert!(
            dir.join("node_modules/oauth2-mock-server").exists(),
            "the OpenID Connect provider is not installed: run `npm ci --prefix tests/oidc`"
        );
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the OpenID Connect provider with node");
        let stdout = child.stdout.take().expect("the provider's stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let first = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("the provider did not start within 30 s")
            .expect("read the provider's stdout")
            .expect("the provider exited before it was listening");
        let started: serde_json::Value = serde_json::from_str(&first).expect("the provider prints its issuer as JSON");
        let issuer = started["issuer"].as_str().expect("an issuer").to_string();
        Self { issuer, _child: child }
    }

    /// An access token from the provider's token endpoint, for `audience`, with `claims`
    /// written over what the provider puts in (sub, roles, exp, nbf, iss...).
    pub async fn token(&self, audience: &str, claims: serde_json::Value) -> String {
        let claims = claims.to_string();
        let form = [("grant_type", "client_credentials"), ("aud", audience), ("claims", &claims)];
        let response = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .form(&form)
            .send()
            .await
            .expect("ask the provider for a token");
        assert_eq!(response.status(), 200, "the token endpoint refused");
        let answer: serde_json::Value = response.json().await.expect("a token response");
        answer["access_token"].as_str().expect("an access token").to_string()
    }

    /// Makes the provider generate another signing key; returns its `kid`.
    pub async fn rotate(&self, alg: &str) -> String {
        let response = reqwest::Client::new().post(format!("{}/rotate?alg={alg}", self.issuer)).send().await.expect("rotate");
        let answer: serde_json::Value = response.json().await.expect("the new key");
        answer["kid"].as_str().expect("a kid").to_string()
    }

    pub async fn jwks(&self) -> serde_json::Value {
        reqwest::get(format!("{}/jwks", self.issuer)).await.expect("get the JWKS").json().await.expect("a JWKS")
    }
}
