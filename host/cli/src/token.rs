//! `joule token`: prints a token of the development issuer, for trying the API out.

use std::time::Duration;

use anyhow::Context as _;
use joule_identity::DevIssuer;

use crate::identity_args::IdentityArgs;
use crate::runtime_args::LocationArgs;

#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(flatten)]
    location: LocationArgs,
    #[command(flatten)]
    identity: IdentityArgs,
    /// Whom the token is for: its `sub`.
    #[arg(long)]
    subject: String,
    /// A role the caller has; repeat for several.
    #[arg(long = "role")]
    roles: Vec<String>,
    /// How long the token is valid, such as "1h" or "15m".
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    ttl: Duration,
}

pub fn run(args: &TokenArgs) -> anyhow::Result<()> {
    let settings = args.identity.settings();
    if !settings.issuers.is_empty() {
        anyhow::bail!(
            "JOULE_OIDC_ISSUER is set ({}), so the development issuer is off and its tokens would be refused; \
             get a token from that issuer",
            settings.issuers.join(", ")
        );
    }
    anyhow::ensure!(!args.subject.trim().is_empty(), "--subject cannot be empty");
    let state_dir = args.location.state_dir();
    let issuer = DevIssuer::open(&state_dir)?;
    let audience = settings.audiences.first().map_or(DevIssuer::AUDIENCE, String::as_str);
    let token = issuer
        .issue(&args.subject, &args.roles, &settings.roles_claim, audience, args.ttl)
        .with_context(|| format!("failed to issue a token for {:?}", args.subject))?;
    println!("{token}");
    Ok(())
}
