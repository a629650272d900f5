//! `joule`: builds and serves the components a `spin.toml` lists.

mod build;
mod logging;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let result = match cli.command {
        Command::Up(args) => up::run(args),
        Command::Build(args) => build::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
