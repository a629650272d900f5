//! Whom the HTTP trigger trusts to vouch for callers.

use std::path::Path;

use joule_identity::{DevIssuer, IdentitySettings, Verifier};

#[derive(clap::Args)]
pub struct IdentityArgs {
    /// OpenID Connect issuer URLs whose tokens are accepted (comma-separated); without one,
    /// the development issuer is on.
    #[arg(long = "oidc-issuer", env = "JOULE_OIDC_ISSUER", value_delimiter = ',')]
    issuers: Vec<String>,
    /// The audiences a token may be issued for (comma-separated); required with an issuer.
    #[arg(long = "oidc-audience", env = "JOULE_OIDC_AUDIENCE", value_delimiter = ',')]
    audiences: Vec<String>,
    /// Dotted path of the claim holding the caller's roles, such as realm_access.roles.
    #[arg(long = "oidc-roles-claim", env = "JOULE_OIDC_ROLES_CLAIM", default_value = IdentitySettings::DEFAULT_ROLES_CLAIM)]
    roles_claim: String,
}

impl IdentityArgs {
    pub fn settings(&self) -> IdentitySettings {
        let listed = |values: &[String]| values.iter().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        IdentitySettings {
            issuers: listed(&self.issuers),
            audiences: listed(&self.audiences),
            roles_claim: self.roles_claim.clone(),
        }
    }

    pub async fn verifier(&self, state_dir: &Path) -> anyhow::Result<Verifier> {
        Ok(Verifier::new(&self.settings(), || DevIssuer::open(state_dir)).await?)
    }
}
