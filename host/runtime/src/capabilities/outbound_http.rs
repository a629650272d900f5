//! The outbound HTTP capability: `allowed_outbound_hosts` lets a component send requests
//! through `wasi:http/outgoing-handler` to the hosts it lists.
//!
//! WASI links the interface for every component, since toolchains import it by default; the
//! hooks here check each request against the grant when it is sent, so a component with no
//! entries loads and is refused at the call.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime_wasi_http::WasiHttpHooks;
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;

use super::shape::{Capability, Load, Start, View};
use crate::manifest::{AllowedHosts, Grants};

pub(crate) struct OutboundHttp;

impl Capability for OutboundHttp {
    const NAME: &'static str = "outbound HTTP";
    const GRANT_HINT: &'static str = "list the hosts in allowed_outbound_hosts";
    /// `wasi:http/outgoing-handler` is linked with WASI; see [`OutboundHttpHooks`].
    const INTERFACES: &'static [&'static str] = &[];
    type Component = ();
    type State = ();

    fn is_granted(grants: &Grants) -> bool {
        !grants.outbound_http.is_empty()
    }

    fn component(&self, _: &Load<'_>) {}

    fn state(_: &(), _: &Start<'_>) {}

    fn add_to_linker<T: Send + 'static>(_: &mut Linker<T>, _: fn(&mut T) -> View<'_, ()>) -> anyhow::Result<()> {
        Ok(())
    }
}

/// wasi-http hooks that refuse requests to hosts the manifest does not allow.
pub struct OutboundHttpHooks {
    component: Arc<str>,
    allowed: AllowedHosts,
}

impl OutboundHttpHooks {
    pub fn new(component: Arc<str>, allowed: AllowedHosts) -> Self {
        Self { component, allowed }
    }
}

impl WasiHttpHooks for OutboundHttpHooks {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = wasmtime_wasi_http::Result<(
                    http::Response<wasmtime_wasi_http::WasiBody>,
                    Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                )>,
            > + Send,
    > {
        let uri = request.uri();
        let allowed = self.allowed.allows(
            uri.scheme_str().unwrap_or("https"),
            uri.host().unwrap_or_default(),
            uri.port_u16(),
        );
        if !allowed {
            let why = if self.allowed.is_empty() {
                "its manifest has no allowed_outbound_hosts; list the hosts it may reach there"
            } else {
                "the host is not in its allowed_outbound_hosts"
            };
            tracing::warn!(component = %self.component, uri = %uri, "outbound request refused: {why}");
            return Box::new(async { Err(ErrorCode::HttpRequestDenied.into()) });
        }
        let _ = fut;
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(with_defaults(options))).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// wasi-http waits 10 minutes for each step by default: far past any invocation's deadline,
/// so a receiver that never answers would time the whole invocation out instead of failing
/// the request, which the guest could handle. Steps the guest gave no timeout get these.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(5);
const BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(5);

fn with_defaults(options: Option<wasmtime_wasi_http::RequestOptions>) -> wasmtime_wasi_http::RequestOptions {
    let options = options.unwrap_or_default();
    wasmtime_wasi_http::RequestOptions {
        connect_timeout: options.connect_timeout.or(Some(CONNECT_TIMEOUT)),
        first_byte_timeout: options.first_byte_timeout.or(Some(FIRST_BYTE_TIMEOUT)),
        between_bytes_timeout: options.between_bytes_timeout.or(Some(BETWEEN_BYTES_TIMEOUT)),
    }
}
