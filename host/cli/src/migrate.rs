//! `joule migrate`: prepare the backends for a release, then exit. It provisions the
//! platform schema and each component's schema and role, applies migrations, and registers
//! changed components as new versions: what `joule up` does at startup, run once as a
//! deployment hook so replicas start quickly.

use joule_runtime::{Manifest, Runtime};

use crate::runtime_args::RuntimeArgs;

#[derive(clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    runtime: RuntimeArgs,
}

pub fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let manifest = Manifest::load(&args.runtime.location.manifest)?;
    let options = args.runtime.options();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let started = Runtime::start(manifest, options).await?;
        let versions = started.registry().active_versions().await?;
        for version in versions {
            tracing::info!(component = %version.component, version = version.version, "active");
        }
        anyhow::Ok(())
    })
}
