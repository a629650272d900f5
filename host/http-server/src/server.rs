//! The accept loop: HTTP/1.1 and HTTP/2 over hyper, with graceful shutdown, bounded
//! connections and timeouts.
//!
//! Every connection costs a file descriptor and a task, so none may be held for free:
//! - a connection that has not finished its first request's headers within the header
//!   timeout is closed (hyper enforces the same for each HTTP/1 request's headers);
//! - a connection with no request in flight for the idle timeout is closed;
//! - past the connection cap, a few more connections are served one request each, so health
//!   probes still get an answer (and learn the listener is full); past those, a connection
//!   is closed as soon as it is accepted, before the process runs out of descriptors.
//!
//! How long a request body may take is the handler's to bound: it knows the body is wanted.

mod watchdog;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::response::Body;
use watchdog::Watchdog;

/// Connections served past the cap, one request each, so probes are still answered.
const OVERFLOW_CONNECTIONS: usize = 64;
/// How long an overflow connection may take to send its one request's headers.
const OVERFLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// What one listener allows its connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Connections served at once; more are answered by the overflow lane or closed.
    pub max_connections: usize,
    /// From accepting a connection to the end of its first request's headers, and for each
    /// HTTP/1 request's headers.
    pub header_timeout: Duration,
    /// How long a connection may stay open with no request in flight.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self { max_connections: 10_000, header_timeout: Duration::from_secs(10), idle_timeout: Duration::from_secs(75) }
    }
}

/// The connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    pub client: SocketAddr,
    /// Whether the listener was at its cap when the connection came: it is served this one
    /// request only, and should get a short answer.
    pub overflow: bool,
}

/// Serves `handler` on `listener` until `shutdown` completes, then gives open requests `grace`.
pub async fn serve<H, F>(
    listener: TcpListener,
    handler: H,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()>
where
    H: Fn(Peer, Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, Infallible>> + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let mut overflow_builder = auto::Builder::new(TokioExecutor::new());
    overflow_builder.http1().timer(TokioTimer::new()).header_read_timeout(OVERFLOW_HEADER_TIMEOUT).keep_alive(false);
    let (builder, overflow_builder) = (Arc::new(builder), Arc::new(overflow_builder));
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let overflow = Arc::new(Semaphore::new(OVERFLOW_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, client) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Running out of file descriptors is transient; back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (permit, overflowing, builder) = match connections.clone().try_acquire_owned() {
                    Ok(permit) => (permit, false, builder.clone()),
                    Err(_) => match overflow.clone().try_acquire_owned() {
                        Ok(permit) => (permit, true, overflow_builder.clone()),
                        Err(_) => {
                            tracing::debug!(client = %client, "closing a connection: the listener is full");
                            continue;
                        }
                    },
                };
                let _ = stream.set_nodelay(true);
                let peer = Peer { client, overflow: overflowing };
                let watchdog = Watchdog::new(if overflowing { OVERFLOW_HEADER_TIMEOUT } else { limits.header_timeout }, limits.idle_timeout);
                let service = {
                    let (handler, watchdog) = (handler.clone(), watchdog.clone());
                    service_fn(move |request| watchdog.clone().track(handler(peer, request)))
                };
                // With upgrades, a connection another protocol takes over (a WebSocket) ends here
                // for the listener: its permit and watchdog go, and its new owner bounds it.
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    tokio::select! {
                        ended = connection => if let Err(e) = ended {
                            tracing::debug!(error = %e, client = %client, "connection ended with an error");
                        },
                        () = watchdog.expired() => tracing::debug!(client = %client, "closing an idle connection"),
                    }
                    drop(permit);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; waiting for requests in flight");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(grace) => tracing::warn!(?grace, "shutdown grace period passed with requests still open"),
    }
    Ok(())
}
