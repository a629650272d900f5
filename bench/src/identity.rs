//! What verifying a bearer token costs in process: a token seen for the first time (a
//! signature check) and one seen before (the verified-token cache), with the development
//! issuer's EdDSA keys.

use std::time::{Duration, Instant};

use joule_identity::{DevIssuer, IdentitySettings, Verifier};

const TOKENS: usize = 2_000;

/// Microseconds per verification: first sight, then again.
pub fn verification_cost() -> anyhow::Result<(f64, f64)> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let state = tempfile::tempdir()?;
        let settings = IdentitySettings { roles_claim: IdentitySettings::DEFAULT_ROLES_CLAIM.into(), ..Default::default() };
        let verifier = Verifier::new(&settings, || DevIssuer::open(state.path())).await?;
        let issuer = DevIssuer::open(state.path())?;
        let roles = ["driver".to_string()];
        let tokens = (0..TOKENS)
            .map(|i| issuer.issue(&format!("driver-{i}"), &roles, "roles", DevIssuer::AUDIENCE, Duration::from_secs(3600)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut per_token = Vec::new();
        for _ in 0..2 {
            let started = Instant::now();
            for token in &tokens {
                verifier.verify(token).await.map_err(|e| anyhow::anyhow!("a bench token was refused: {e}"))?;
            }
            per_token.push(started.elapsed().as_secs_f64() * 1e6 / TOKENS as f64);
        }
        Ok((per_token[0], per_token[1]))
    })
}
