//! Trace export over OTLP/HTTP, on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set. The exporter reads the rest of the standard
//! `OTEL_*` variables itself: protocol (`http/protobuf` or `http/json`), headers, timeout,
//! and the batch processor's delays.

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::SpanExporter;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterFn, Targets, filter_fn};
use tracing_subscriber::registry::LookupSpan;

use crate::logging::DEFAULT_FILTER;

const ENDPOINT_VARIABLES: [&str; 2] = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"];

/// Where the bindings' spans come from: one for every host call, at trace level.
const HOST_CALLS: &str = "joule_world";

/// Flushes the spans still buffered when dropped.
pub struct Exporting(SdkTracerProvider);

impl Drop for Exporting {
    fn drop(&mut self) {
        if let Err(e) = self.0.shutdown() {
            eprintln!("warning: failed to flush the last traces: {e}");
        }
    }
}

/// The layer that exports spans, if an endpoint is configured.
pub fn otlp_layer<S>() -> anyhow::Result<Option<(impl Layer<S>, Exporting)>>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    if !ENDPOINT_VARIABLES.iter().any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty())) {
        return Ok(None);
    }
    let exporter = SpanExporter::builder()
        .with_http()
        .build()
        .context("failed to set up the OTLP trace exporter from the OTEL_EXPORTER_OTLP_* variables")?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("joule");
    }
    let provider =
        SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("joule")).with_filter(exported()?);
    Ok(Some((layer, Exporting(provider))))
}

/// What logs show by default, and the host-call spans, but not the bindings' trace-level
/// events inside them, which would carry every call's result.
fn exported() -> anyhow::Result<FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool>> {
    let targets: Targets = DEFAULT_FILTER.parse().context("the default filter is valid")?;
    Ok(filter_fn(move |meta| {
        (meta.is_span() && meta.target().starts_with(HOST_CALLS)) || targets.would_enable(meta.target(), meta.level())
    }))
}
