//! Paths whose connections another protocol takes over, such as OCPP's WebSocket endpoint:
//! the listener's owner answers them ahead of its routes, and a `101 Switching Protocols`
//! answer hands the connection to whoever holds `hyper::upgrade::on(request)`.

use std::future::Future;
use std::pin::Pin;

use http::{Request, Response};
use hyper::body::Incoming;

use crate::{Body, Peer};

pub type UpgradeFuture = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

pub trait Upgrades: Send + Sync {
    /// Whether requests for `path` are this handler's, whether they ask to upgrade or not.
    fn claims(&self, path: &str) -> bool;

    /// Answers a request for a claimed path: the upgrade, or why not.
    fn answer(&self, peer: Peer, request: Request<Incoming>) -> UpgradeFuture;
}
