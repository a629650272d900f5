//! W3C trace context (`traceparent`): continued from what triggered an invocation, so one
//! trace covers an HTTP request, the events it publishes and their handlers.

use std::fmt;

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// `00-<trace id>-<parent id>-<flags>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: u128,
    pub parent_id: u64,
    pub sampled: bool,
}

impl TraceParent {
    /// Parses a `traceparent` header; `None` if it is malformed, as the spec asks.
    pub fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |text: &str, len: usize| text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if !hex(version, 2) || version == "ff" || !hex(trace, 32) || !hex(parent, 16) || !hex(flags, 2) {
            return None;
        }
        if version == "00" && parts.next().is_some() {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok().filter(|id| *id != 0)?;
        let parent_id = u64::from_str_radix(parent, 16).ok().filter(|id| *id != 0)?;
        let sampled = u8::from_str_radix(flags, 16).ok()? & 1 == 1;
        Some(Self { trace_id, parent_id, sampled })
    }

    /// A new trace.
    pub fn root() -> Self {
        Self { trace_id: nonzero_u128(), parent_id: nonzero_u64(), sampled: true }
    }

    /// The context for work done on behalf of this one: same trace, a new span.
    pub fn child(&self) -> Self {
        Self { parent_id: nonzero_u64(), ..*self }
    }

    /// Continues `header` if it is a valid trace context, else starts a new trace.
    pub fn continue_or_start(header: Option<&str>) -> Self {
        header.and_then(Self::parse).map_or_else(Self::root, |parent| parent.child())
    }

    /// The trace id as logs and trace back ends print it.
    pub fn trace_id_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }

    fn remote_span_context(&self) -> SpanContext {
        let flags = if self.sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
        SpanContext::new(TraceId::from(self.trace_id), SpanId::from(self.parent_id), flags, true, TraceState::default())
    }

    fn of_span_context(context: &SpanContext) -> Option<Self> {
        context.is_valid().then(|| Self {
            trace_id: u128::from_be_bytes(context.trace_id().to_bytes()),
            parent_id: u64::from_be_bytes(context.span_id().to_bytes()),
            sampled: context.is_sampled(),
        })
    }
}

/// Sets an attribute of `span` as exported, without recording it as a `tracing` field:
/// the log formatter re-encodes a span's fields on every record, which costs an invocation
/// more than the rest of its bookkeeping. Logs carry what the span was created with.
pub fn annotate(span: &tracing::Span, key: &'static str, value: impl Into<opentelemetry::Value>) {
    span.set_attribute(key, value);
}

/// Makes `span` the child of `parent` (the caller's or the publisher's context, when valid)
/// and returns the context that work done on its behalf carries on.
///
/// When spans are exported that is the span's own context, so whatever it triggers links
/// to it; otherwise the trace goes on with a new span id. Call it before `span` is entered:
/// an exported span takes its parent when it starts.
pub fn adopt(span: &tracing::Span, parent: Option<&str>) -> TraceParent {
    if let Some(valid) = parent.and_then(TraceParent::parse) {
        let context = opentelemetry::Context::new().with_remote_span_context(valid.remote_span_context());
        // Fails only where spans are not exported, and then nothing needs the link.
        let _ = span.set_parent(context);
    }
    let own = TraceParent::of_span_context(span.context().span().span_context());
    let context = own.unwrap_or_else(|| TraceParent::continue_or_start(parent));
    span.record("trace_id", context.trace_id_hex());
    context
}

fn nonzero_u128() -> u128 {
    uuid::Uuid::new_v4().as_u128().max(1)
}

fn nonzero_u64() -> u64 {
    (uuid::Uuid::new_v4().as_u128() as u64).max(1)
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{:032x}-{:016x}-{:02x}", self.trace_id, self.parent_id, u8::from(self.sampled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_a_valid_trace_with_a_new_span() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parent = TraceParent::parse(header).unwrap();
        assert_eq!(parent.to_string(), header);
        let child = TraceParent::continue_or_start(Some(header));
        assert_eq!(child.trace_id, parent.trace_id);
        assert_ne!(child.parent_id, parent.parent_id);
        assert!(child.sampled);
    }

    #[test]
    fn without_exported_spans_an_invocation_continues_its_callers_trace() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let caller = TraceParent::parse(header).unwrap();
        let span = tracing::info_span!("joule.invoke", trace_id = tracing::field::Empty);
        let own = adopt(&span, Some(header));
        assert_eq!(own.trace_id, caller.trace_id);
        assert_ne!(own.parent_id, caller.parent_id, "the invocation is a span of its own");
        let started = adopt(&span, Some("garbage"));
        assert_ne!(started.trace_id, caller.trace_id, "a malformed header starts a new trace");
    }

    #[test]
    fn starts_a_new_trace_for_malformed_headers() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
        let started = TraceParent::continue_or_start(Some("garbage"));
        assert_eq!(TraceParent::parse(&started.to_string()), Some(started));
    }
}
