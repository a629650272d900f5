//! The OCPP trigger: charge points connect over WebSocket, speak OCPP-J 1.6 or 2.0.1, and
//! each CALL they send becomes one component invocation.
//!
//! - [`protocol`]: the OCPP-J layer with no I/O (frames, error codes, schemas, pairing).
//! - `handshake`: the opening request: path, subprotocol, HTTP Basic.
//! - `invoke`: connecting and each CALL as calls of a component, through the runtime's
//!   invocation runner.
//! - `connection`: one charge point's WebSocket loop.
//! - `calls`: the platform's CALLs to charge points, routed to the replica holding each.
//!
//! Payload schemas are the `ocpp-kit` crate's types, generated from the official OCA JSON
//! schemas and covering every 1.6 and 2.0.1 action; the `validate` module says why that crate
//! and not `rust-ocpp` or `ocpp-types`, and which CALLERROR code each violation gets.

mod calls;
mod connection;
mod connections;
mod handshake;
mod invoke;
pub mod protocol;
mod session;

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use joule_http_server::{Body, Peer, UpgradeFuture, Upgrades, response};
use joule_runtime::manifest::OcppTriggerConfig;
use joule_runtime::{ManifestError, Runtime};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use handshake::MAX_CHARGE_POINT_ID_CHARS;
pub use session::{CHARGE_POINT_ISSUER, CHARGE_POINT_ROLE};
use session::Session;

use calls::Router;
use connections::Connections;
use protocol::{Initiator, Protocol, Validator};

/// How charge point connections are kept.
#[derive(Debug, Clone)]
pub struct OcppSettings {
    /// How often the host pings a charge point, to find a dead connection.
    pub ping_interval: Duration,
    /// A connection with nothing heard (no message, no pong) for this long is closed.
    pub idle_timeout: Duration,
    /// Charge points connected at once; more are answered 503 at the handshake.
    pub max_connections: usize,
    /// The largest message a charge point may send.
    pub max_message_bytes: usize,
    /// How long a charge point has to answer a CALL the platform sends it.
    pub call_timeout: Duration,
}

impl Default for OcppSettings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(90),
            max_connections: 10_000,
            max_message_bytes: 1 << 20,
            call_timeout: Duration::from_secs(30),
        }
    }
}

/// Each connection's read buffer; larger messages grow it for as long as they take.
const READ_BUFFER_BYTES: usize = 4 << 10;

pub struct OcppTrigger {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    runtime: Arc<Runtime>,
    triggers: Vec<Arc<OcppTriggerConfig>>,
    settings: OcppSettings,
    validator: Validator,
    connections: Connections,
    router: Arc<Router>,
    /// Cancelled at shutdown; every connection's token is its child.
    stopping: CancellationToken,
    tasks: TaskTracker,
}

impl OcppTrigger {
    /// Checks that each action the manifest routes is one charge points send.
    pub fn new(runtime: Arc<Runtime>, settings: OcppSettings) -> Result<Self, ManifestError> {
        let manifest = runtime.manifest();
        let validator = Validator::default();
        for trigger in &manifest.ocpp_triggers {
            for action in trigger.actions.keys() {
                if !Protocol::ALL.iter().any(|&p| validator.is_call_from(p, Initiator::ChargePoint, action)) {
                    return Err(manifest
                        .error(format!("{action:?} is not an action charge points send in OCPP 1.6 or 2.0.1"))
                        .at_key(trigger.key(&format!("actions.{action}"))));
                }
            }
            tracing::info!(route = %trigger.route, component = %trigger.component, "OCPP route");
        }
        let shared = Shared {
            triggers: manifest.ocpp_triggers.iter().cloned().map(Arc::new).collect(),
            router: Arc::new(Router::new(runtime.clone())),
            runtime,
            settings,
            validator,
            connections: Connections::default(),
            stopping: CancellationToken::new(),
            tasks: TaskTracker::new(),
        };
        Ok(Self { shared: Arc::new(shared) })
    }

    /// The endpoint, for the HTTP listener to hand its paths to.
    pub fn upgrades(&self) -> Arc<dyn Upgrades> {
        Arc::new(Endpoint(self.shared.clone()))
    }

    /// Sends the platform's calls to charge points; waits for `shutdown`, then closes every
    /// connection once its CALL in hand is answered.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (router, shared) = (self.shared.router.clone(), self.shared.clone());
        tracing::info!(replica = router.replica(), "taking OCPP calls");
        self.shared.tasks.spawn(router.run(shared.clone(), shared.stopping.clone()));
        shutdown.await;
        self.shared.stopping.cancel();
        self.shared.tasks.close();
        self.shared.tasks.wait().await;
    }
}

/// The OCPP routes on the public HTTP listener.
struct Endpoint(Arc<Shared>);

impl Upgrades for Endpoint {
    fn claims(&self, path: &str) -> bool {
        self.0.route(path).is_some()
    }

    fn answer(&self, peer: Peer, request: Request<Incoming>) -> UpgradeFuture {
        Box::pin(self.0.clone().accept(peer, request))
    }
}

impl Shared {
    fn route(&self, path: &str) -> Option<&Arc<OcppTriggerConfig>> {
        self.triggers.iter().find(|t| path.strip_prefix(t.prefix.as_str()).is_some_and(|rest| rest.starts_with('/')))
    }

    /// Checks the handshake and asks the route's component whether the charge point may
    /// connect; if so, answers 101 and serves the connection on its own task.
    async fn accept(self: Arc<Self>, peer: Peer, mut request: Request<Incoming>) -> Response<Body> {
        let Some(trigger) = self.route(request.uri().path()).cloned() else {
            return response::error(StatusCode::NOT_FOUND, "not_found", "no OCPP route matches");
        };
        if self.stopping.is_cancelled() {
            return unavailable("shutting_down", "the server is shutting down; connect again shortly");
        }
        if self.connections.len() >= self.settings.max_connections {
            return unavailable("too_many_connections", "this server holds as many charge points as it may; connect again shortly");
        }
        let offer = match handshake::read(&trigger.prefix, &request) {
            Ok(offer) => offer,
            Err(refusal) => return refusal,
        };
        let Some(component) = self.runtime.component(&trigger.component) else {
            return response::error(StatusCode::INTERNAL_SERVER_ERROR, "component_missing", "the route's component is not loaded");
        };
        let session = Arc::new(Session::new(offer.charge_point_id.clone(), offer.protocol, trigger));
        let id = &session.charge_point_id;
        match invoke::connect(component, &session, offer.password.clone()).await {
            Ok(()) => {}
            Err(invoke::Refused::Credentials(why)) => {
                tracing::info!(charge_point = %id, client = %peer.client, why, "charge point refused");
                return handshake::unauthorized("unknown charge point or wrong password");
            }
            Err(refused @ invoke::Refused::Unavailable(_)) => {
                tracing::warn!(charge_point = %id, error = %refused, "could not decide whether a charge point may connect");
                return unavailable("component_failed", &refused.to_string());
            }
        }
        invoke::announce(&self.runtime, &session, invoke::Announcement::Connected).await;
        let upgrade = hyper::upgrade::on(&mut request);
        // Registered before the 101 goes out, so of two connections of one charge point the
        // one answered last is the one kept.
        let registration = self.connections.register(&session.charge_point_id, &session.connection_id, &self.stopping);
        self.runtime.metrics().ocpp_connected(self.connections.len());
        self.router.connected(&session.charge_point_id, &session.connection_id).await;
        let shared = self.clone();
        self.tasks.spawn(async move {
            match upgrade.await {
                Ok(upgraded) => {
                    // Charge points are many and quiet: a small eager read buffer (tungstenite's
                    // default is 128 KiB per connection), and each answer written at once.
                    let config = WebSocketConfig::default()
                        .read_buffer_size(READ_BUFFER_BYTES)
                        .write_buffer_size(0)
                        .max_message_size(Some(shared.settings.max_message_bytes))
                        .max_frame_size(Some(shared.settings.max_message_bytes));
                    let socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
                    tracing::info!(
                        charge_point = %session.charge_point_id,
                        protocol = session.protocol.subprotocol(),
                        client = %peer.client,
                        "charge point connected"
                    );
                    connection::serve(shared.clone(), session.clone(), socket, registration.replaced, registration.calls).await;
                }
                Err(e) => tracing::debug!(charge_point = %session.charge_point_id, error = %e, "the upgrade failed"),
            }
            shared.connections.unregister(&session.charge_point_id, registration.number);
            shared.runtime.metrics().ocpp_connected(shared.connections.len());
            shared.router.disconnected(&session.charge_point_id, &session.connection_id).await;
            invoke::announce(&shared.runtime, &session, invoke::Announcement::Disconnected).await;
        });
        offer.switching()
    }
}

fn unavailable(code: &str, message: &str) -> Response<Body> {
    let mut answer = response::error(StatusCode::SERVICE_UNAVAILABLE, code, message);
    answer.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    answer
}
