use std::io::IsTerminal as _;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::telemetry::{self, Exporting};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Auto,
    Text,
    Json,
}

/// What is logged, and exported, unless configured otherwise: info, with quieter dependencies.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,wasmtime=warn,cranelift_codegen=warn";

/// Logs go to stderr; the filter comes from `JOULE_LOG` (default: info, quieter dependencies).
/// Lines logged inside an invocation carry its span's fields: component, version, trigger
/// and trace id. Spans are also exported over OTLP when an endpoint is configured; keep the
/// returned guard until exit, so the last of them are flushed.
pub fn init(format: Format) -> anyhow::Result<Option<Exporting>> {
    let filter = EnvFilter::try_from_env("JOULE_LOG")
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let terminal = std::io::stderr().is_terminal();
    let json = match format {
        Format::Auto => !terminal,
        Format::Text => false,
        Format::Json => true,
    };
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(terminal);
    let logs = if json { logs.json().with_current_span(true).with_span_list(false).boxed() } else { logs.boxed() };
    let (traces, exporting) = telemetry::otlp_layer()?.unzip();
    tracing_subscriber::registry().with(logs.with_filter(filter)).with(traces).init();
    Ok(exporting)
}
