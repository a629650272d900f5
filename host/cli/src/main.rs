//! `joule`: builds and serves the components a `spin.toml` lists.

mod admin;
mod build;
mod heap_trim;
mod http_args;
mod identity_args;
mod logging;
mod migrate;
mod ocpp_args;
mod runtime_args;
mod telemetry;
mod token;
mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "joule", version, about = "Serverless WebAssembly functions for EV charging and parking operators")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format: text on a terminal, JSON otherwise, unless chosen here.
    #[arg(long, global = true, value_enum, default_value_t = logging::Format::Auto, env = "JOULE_LOG_FORMAT")]
    log_format: logging::Format,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application.
    Up(up::UpArgs),
    /// Run each component's build command.
    Build(build::BuildArgs),
    /// Prepare the backends (schemas, migrations, component versions) and exit.
    Migrate(migrate::MigrateArgs),
    /// Deploy a new version of a component to a running joule.
    Deploy(admin::DeployArgs),
    /// Switch a component back to an earlier version.
    Rollback(admin::RollbackArgs),
    /// List the active components, or every version of one.
    Components(admin::ComponentsArgs),
    /// Count the pending timers and list the dead ones.
    Timers(admin::AdminArgs),
    /// Print a token of the development issuer (on when no JOULE_OIDC_ISSUER is set).
    Token(token::TokenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _exporting = match logging::init(cli.log_format) {
        Ok(exporting) => exporting,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Up(args) => up::run(args),
        Command::Build(args) => build::run(&args),
        Command::Migrate(args) => migrate::run(args),
        Command::Deploy(args) => admin::deploy(args),
        Command::Rollback(args) => admin::rollback(args),
        Command::Components(args) => admin::components(args),
        Command::Timers(args) => admin::timers(args),
        Command::Token(args) => token::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
