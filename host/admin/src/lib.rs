//! The admin listener, apart from the public one: the component registry's API (deploy,
//! list, roll back) behind a bearer token, and Prometheus `/metrics`.

mod access;
mod metrics;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use joule_runtime::Runtime;
use joule_http_server::response::Body;
use joule_http_server::server::{ConnectionLimits, Peer};

pub use access::{Access, AccessError};

/// The Prometheus scrape path; it needs no token.
pub const METRICS_PATH: &str = "/metrics";
/// Where the registry's routes start.
pub const API_PREFIX: &str = "/admin/v1/";
/// The largest component a deploy accepts.
pub const MAX_COMPONENT_BYTES: usize = 64 << 20;
/// The header naming who deploys; the CLI sends the user and host.
pub const DEPLOYED_BY_HEADER: &str = "x-joule-deployed-by";
/// Connections the admin listener serves at once: operators, the CLI and a scraper, kept
/// apart from the public listener's so that a full public listener leaves it answering.
const MAX_CONNECTIONS: usize = 256;

pub struct AdminApi {
    runtime: Arc<Runtime>,
    access: Access,
}

impl AdminApi {
    pub fn new(runtime: Arc<Runtime>, access: Access) -> Self {
        Self { runtime, access }
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let api = Arc::new(self);
        let handler = move |_peer: Peer, request: Request<Incoming>| {
            let api = api.clone();
            async move { Ok::<_, std::convert::Infallible>(api.handle(request).await) }
        };
        // A deploy's body (up to MAX_COMPONENT_BYTES) arrives inside the body-reading route.
        let limits = ConnectionLimits { max_connections: MAX_CONNECTIONS, ..ConnectionLimits::default() };
        joule_http_server::server::serve(listener, handler, limits, shutdown, Duration::from_secs(5)).await
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let path = request.uri().path();
        if path == METRICS_PATH {
            return metrics::render(&self.runtime).await;
        }
        if let Some(route) = path.strip_prefix(API_PREFIX) {
            if let Err(refused) = self.access.check(request.headers()) {
                return refused.response();
            }
            let route = route.to_string();
            return routes::handle(&self.runtime, &route, request).await;
        }
        routes::not_found(path)
    }
}
