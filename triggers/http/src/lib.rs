//! The HTTP trigger: serves components that export `wasi:http/incoming-handler` (WASI 0.2)
//! on the routes `[[trigger.http]]` gives them, with Spin's routing rules and headers.
//!
//! Every request gets a fresh instance and runs as one unit of work.

mod access;
mod invoke;
mod rate_limit;
mod router;
mod spin_headers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use joule_identity::{Principal, Verifier};
use joule_runtime::{InvocationContext, ManifestError, Runtime};

pub use crate::access::DEV_JWKS_PATH;
pub use crate::rate_limit::RateLimits;
pub use crate::invoke::invoke;
use joule_http_server::{Body, Upgrades, response, server};
use crate::router::Router;
pub use joule_http_server::{ConnectionLimits, Peer};

/// The request header carrying a correlation id, echoed on the response and carried into
/// every event the invocation publishes. One is made up when the caller sends none.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Takes the correlation id from the request, or makes one up, and the caller's trace
/// context, which the invocation continues.
fn invocation_context(headers: &http::HeaderMap, caller: Option<Arc<Principal>>) -> InvocationContext {
    let correlation_id = headers
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    let traceparent = headers.get(TRACEPARENT_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let actor = caller.as_ref().map(|caller| caller.subject.clone());
    InvocationContext { correlation_id: Some(correlation_id), traceparent, caller, actor }
}

/// The W3C trace context header; the component sees its invocation's own.
const TRACEPARENT_HEADER: &str = "traceparent";

/// Paths the host answers itself, ahead of any route.
pub const LIVE_PATH: &str = "/health/live";
pub const READY_PATH: &str = "/health/ready";

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Larger request bodies are refused with 413 before any component runs.
    pub max_request_body: usize,
    /// How long a request body may take to arrive, whole; past it, 408.
    pub body_timeout: Duration,
    /// How long requests in flight may take to finish after shutdown begins.
    pub shutdown_grace: Duration,
    pub connections: ConnectionLimits,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_request_body: 1 << 20,
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
            connections: ConnectionLimits::default(),
        }
    }
}

pub struct HttpTrigger {
    shared: Arc<Shared>,
}

struct Shared {
    runtime: Arc<Runtime>,
    verifier: Arc<Verifier>,
    limits: RateLimits,
    router: Router,
    settings: HttpSettings,
    /// Paths another protocol takes over (OCPP's WebSocket endpoint), answered before routes.
    upgrades: Option<Arc<dyn Upgrades>>,
    draining: AtomicBool,
}

impl HttpTrigger {
    /// Checks the routes and that every routed component exports the HTTP handler.
    pub fn new(
        runtime: Arc<Runtime>,
        verifier: Arc<Verifier>,
        limits: RateLimits,
        settings: HttpSettings,
    ) -> Result<Self, ManifestError> {
        let manifest = runtime.manifest();
        let router = Router::new(manifest)?;
        for trigger in &manifest.http_triggers {
            let component = runtime.component(&trigger.component);
            if !component.is_some_and(|c| c.exports_http()) {
                return Err(manifest
                    .error(format!(
                        "component {:?} does not export {}.x, so it cannot serve HTTP; \
                         build it with spin-sdk's #[http_component]",
                        trigger.component,
                        joule_runtime::HTTP_HANDLER_EXPORT
                    ))
                    .at_key(trigger.key("component")));
            }
        }
        for route in router.routes() {
            tracing::info!(route = %route.full, component = %route.component, "route");
        }
        let shared = Shared { runtime, verifier, limits, router, settings, upgrades: None, draining: AtomicBool::new(false) };
        Ok(Self { shared: Arc::new(shared) })
    }

    /// Hands the paths `upgrades` claims to it, ahead of every route.
    pub fn with_upgrades(self, upgrades: Arc<dyn Upgrades>) -> Self {
        let mut shared = Arc::into_inner(self.shared).expect("not serving yet");
        shared.upgrades = Some(upgrades);
        Self { shared: Arc::new(shared) }
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let shared = self.shared.clone();
        let local = listener.local_addr()?;
        let handler = move |peer: Peer, request: Request<Incoming>| {
            let shared = shared.clone();
            async move { Ok::<_, std::convert::Infallible>(shared.handle(local, peer, request).await) }
        };
        let draining = {
            let shared = self.shared.clone();
            async move {
                shutdown.await;
                shared.draining.store(true, Ordering::Relaxed);
            }
        };
        let forgetting = self.shared.clone();
        let forget = tokio::spawn(async move {
            let mut every = tokio::time::interval(FORGET_IDLE_CALLERS);
            loop {
                every.tick().await;
                forgetting.limits.forget_idle();
            }
        });
        let settings = &self.shared.settings;
        let served = server::serve(listener, handler, settings.connections.clone(), draining, settings.shutdown_grace).await;
        forget.abort();
        served
    }
}

/// How often in-process rate limits forget callers that are back to a full budget.
const FORGET_IDLE_CALLERS: Duration = Duration::from_secs(60);

impl Shared {
    async fn handle(&self, local: SocketAddr, peer: Peer, request: Request<Incoming>) -> Response<Body> {
        if let Err(problem) = check_host(&request) {
            return response::error(StatusCode::BAD_REQUEST, "bad_request", problem);
        }
        let path = request.uri().path();
        let probe = matches!(path, LIVE_PATH | READY_PATH);
        if probe && !matches!(*request.method(), http::Method::GET | http::Method::HEAD) {
            let mut response =
                response::error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("{path} answers GET and HEAD"));
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        match path {
            LIVE_PATH => return response::json(StatusCode::OK, &serde_json::json!({ "status": "live" })),
            READY_PATH => return self.readiness(peer).await,
            DEV_JWKS_PATH => {
                if let Some(jwks) = self.verifier.dev_jwks() {
                    return response::json(StatusCode::OK, jwks);
                }
            }
            _ if peer.overflow => {
                let mut response = response::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too_many_connections",
                    "the server is at its connection limit; retry shortly",
                );
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return response;
            }
            _ => {}
        }
        if let Some(upgrades) = self.upgrades.as_ref().filter(|upgrades| upgrades.claims(path)) {
            return upgrades.answer(peer, request).await;
        }
        let client = peer.client;
        let Some(matched) = self.router.find(path) else {
            return response::error(StatusCode::NOT_FOUND, "not_found", format!("no route matches {path}"));
        };
        let Some(component) = self.runtime.component(&matched.route.component) else {
            return response::error(StatusCode::INTERNAL_SERVER_ERROR, "component_missing", "the route's component is not loaded");
        };
        let authorization = request.headers().get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
        let caller = match joule_identity::authorize(&self.verifier, &matched.route.policy, authorization).await {
            Ok(caller) => caller,
            Err(refusal) => return access::refused(refusal),
        };
        if let Err(wait) = self.limits.check(&matched.route.full, caller.as_deref(), client.ip()).await {
            return access::rate_limited(wait);
        }

        let (mut parts, body) = request.into_parts();
        let body = match self.read_body(&parts.headers, body).await {
            Ok(body) => body,
            Err(response) => return response,
        };
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let full_url = Bytes::from(match (parts.uri.authority(), host) {
            (Some(authority), _) => format!("http://{authority}{path_and_query}"),
            (None, Some(host)) => format!("http://{host}{path_and_query}"),
            (None, None) => format!("http://{local}{path_and_query}"),
        });
        // The URI and the spin-full-url header share the one buffer.
        let Ok(uri) = http::Uri::from_maybe_shared(full_url.clone()) else {
            return response::error(StatusCode::BAD_REQUEST, "bad_request", "the request URL is not valid");
        };
        let full_url = HeaderValue::from_maybe_shared(full_url).ok();
        spin_headers::insert(&mut parts.headers, spin_headers::RequestInfo { full_url, client, matched: &matched });
        parts.uri = uri;
        let context = invocation_context(&parts.headers, caller);
        let correlation_id = context.correlation_id.clone();
        let mut response = invoke::invoke(component, Request::from_parts(parts, Full::new(body)), context).await;
        if let Some(id) = correlation_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
            response.headers_mut().insert(CORRELATION_HEADER, id);
        }
        response
    }

    /// Reads the whole body, refusing one larger than the limit with 413.
    ///
    /// The rest of a refused body is read and dropped, up to [`DISCARD_LIMIT`] times the
    /// limit and for at most [`DISCARD_TIME`], so a client still sending it gets the 413
    /// instead of a broken pipe; past that the connection closes.
    async fn read_body(&self, headers: &http::HeaderMap, mut body: Incoming) -> Result<Bytes, Response<Body>> {
        let limit = self.settings.max_request_body;
        let too_large = || {
            response::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the request body is larger than {limit} bytes"),
            )
        };
        let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let discard_up_to = limit.saturating_mul(DISCARD_LIMIT);
        if declared.is_some_and(|length| length > limit as u64) {
            if declared.is_some_and(|length| length <= discard_up_to as u64) {
                discard(body, discard_up_to).await;
            }
            return Err(too_large());
        }
        let timeout = self.settings.body_timeout;
        let read = async {
            let mut collected = bytes::BytesMut::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| {
                    response::error(StatusCode::BAD_REQUEST, "bad_request", format!("failed to read the request body: {e}"))
                })?;
                if let Ok(data) = frame.into_data() {
                    if collected.len() + data.len() > limit {
                        discard(body, discard_up_to.saturating_sub(collected.len() + data.len())).await;
                        return Err(too_large());
                    }
                    collected.extend_from_slice(&data);
                }
            }
            Ok(collected.freeze())
        };
        tokio::time::timeout(timeout, read).await.unwrap_or_else(|_| {
            let message = format!("the request body did not arrive within {}", humantime::format_duration(timeout));
            let mut response = response::error(StatusCode::REQUEST_TIMEOUT, "request_timeout", message);
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(response)
        })
    }

    async fn readiness(&self, peer: Peer) -> Response<Body> {
        let unavailable =
            |reason: &str| response::json(StatusCode::SERVICE_UNAVAILABLE, &serde_json::json!({ "status": "unavailable", "reason": reason }));
        if self.draining.load(Ordering::Relaxed) {
            return unavailable("shutting down");
        }
        // A probe that came in past the cap: this replica takes no more connections for now.
        if peer.overflow {
            return unavailable("the listener is at its connection limit");
        }
        match self.runtime.check_ready().await {
            Ok(()) => response::json(StatusCode::OK, &serde_json::json!({ "status": "ready" })),
            Err(reason) => unavailable(&reason),
        }
    }
}

/// An HTTP/1.1 request must carry exactly one `Host` header (RFC 9112, section 3.2); HTTP/2
/// names the authority in its own pseudo-header, and HTTP/1.0 need not name it.
fn check_host<B>(request: &Request<B>) -> Result<(), &'static str> {
    if request.version() != http::Version::HTTP_11 {
        return Ok(());
    }
    let mut hosts = request.headers().get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (Some(_), None) => Ok(()),
        (None, _) => Err("an HTTP/1.1 request must have a Host header"),
        (Some(_), Some(_)) => Err("an HTTP/1.1 request must have exactly one Host header"),
    }
}

/// How many times the body limit a refused body may be read and dropped, and for how long.
const DISCARD_LIMIT: usize = 16;
const DISCARD_TIME: Duration = Duration::from_secs(5);

/// Reads and drops up to `budget` more bytes of `body`, within [`DISCARD_TIME`].
async fn discard(mut body: Incoming, budget: usize) {
    let drain = async {
        let mut left = budget;
        while let Some(Ok(frame)) = body.frame().await {
            let size = frame.data_ref().map_or(0, Bytes::len);
            if size > left {
                return;
            }
            left -= size;
        }
    };
    let _ = tokio::time::timeout(DISCARD_TIME, drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_1_1_request_needs_exactly_one_host() {
        let request = |version, hosts: &[&str]| {
            let mut builder = Request::builder().version(version).uri("/health/live");
            for host in hosts {
                builder = builder.header(header::HOST, *host);
            }
            builder.body(()).unwrap()
        };
        assert!(check_host(&request(http::Version::HTTP_11, &["a"])).is_ok());
        assert!(check_host(&request(http::Version::HTTP_11, &[])).is_err());
        assert!(check_host(&request(http::Version::HTTP_11, &["a", "b"])).is_err());
        assert!(check_host(&request(http::Version::HTTP_10, &[])).is_ok());
        assert!(check_host(&request(http::Version::HTTP_2, &[])).is_ok());
    }
}
