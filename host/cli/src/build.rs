//! `joule build`: runs each component's `[component.<id>.build]` commands, as `spin build` does.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, bail};
use joule_runtime::Manifest;

/// The target components are built for.
const WASM_TARGET: &str = "wasm32-wasip2";

#[derive(clap::Args)]
pub struct BuildArgs {
    /// The application manifest.
    #[arg(long, short = 'f', default_value = "spin.toml", env = "JOULE_MANIFEST")]
    pub manifest: PathBuf,
}

pub fn run(args: &BuildArgs) -> anyhow::Result<()> {
    let manifest = Manifest::load(&args.manifest)?;
    build(&manifest)
}

/// Builds every component that has a build command, in manifest order.
pub fn build(manifest: &Manifest) -> anyhow::Result<()> {
    let builds: Vec<_> =
        manifest.components.values().filter_map(|c| c.build.as_ref().map(|build| (c.id.as_str(), build))).collect();
    if builds.iter().any(|(_, build)| build.commands.iter().any(|c| c.contains(WASM_TARGET))) {
        ensure_wasm_target()?;
    }
    // Components often share one cargo workspace and command; run each distinct one once.
    let mut done = std::collections::HashSet::new();
    for (id, build) in builds {
        for command in &build.commands {
            if !done.insert((build.workdir.clone(), command.clone())) {
                continue;
            }
            eprintln!("Building component {id:?}: {command}");
            let status = Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(&build.workdir)
                .envs(&build.environment)
                .status()
                .with_context(|| {
                    format!("failed to run the build command of component {id:?} in {}", build.workdir.display())
                })?;
            if !status.success() {
                bail!(
                    "{}: component {id:?}, key \"build.command\": `{command}` failed ({status})",
                    manifest.file.display()
                );
            }
        }
    }
    Ok(())
}

/// Installs the wasm target through rustup when it is missing; a fresh machine may lack it.
fn ensure_wasm_target() -> anyhow::Result<()> {
    let Ok(installed) = Command::new("rustup").args(["target", "list", "--installed"]).output() else {
        eprintln!("warning: rustup not found; assuming the {WASM_TARGET} target is available");
        return Ok(());
    };
    if String::from_utf8_lossy(&installed.stdout).lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    eprintln!("Installing the {WASM_TARGET} target with rustup");
    let status = Command::new("rustup").args(["target", "add", WASM_TARGET]).status()?;
    if !status.success() {
        bail!("`rustup target add {WASM_TARGET}` failed ({status})");
    }
    Ok(())
}
