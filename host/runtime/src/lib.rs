//! The Joule runtime: it loads the components a `spin.toml` lists, gives each exactly
//! the capabilities its manifest grants, and runs each invocation as one unit of work.
//!
//! Triggers (HTTP, AMQP) depend on this crate; capabilities never depend on triggers.

mod backends;
mod background;
pub mod capabilities;
mod component;
pub mod database;
pub mod embedded;
pub mod engine;
mod error;
pub mod events;
pub mod invocation;
mod loader;
pub mod manifest;
pub mod metrics;
pub mod registry;
mod runtime;
mod state;
pub mod timers;
pub mod trace_context;
pub mod values;

pub use backends::{BackendSettings, Backends, DEFAULT_EVENTS_EXCHANGE, DEFAULT_QUEUE_NAMESPACE};
pub use background::Background;
pub use capabilities::shape::InvocationContext;
pub use component::{
    ComponentHost, EVENT_HANDLER_EXPORT, HTTP_HANDLER_EXPORT, LoadedComponent, OCPP_HANDLER_EXPORT, Overloaded, PRICING_RULE_EXPORT,
    TEMPLATE_EXPORT,
};
pub use error::RuntimeError;
pub use registry::{DeployError, Deployed, Registry};
pub use invocation::{Failure, Invocation};
pub use state::{InvocationState, MemoryLimitExceeded};
pub use manifest::{Manifest, ManifestError};
pub use runtime::{Runtime, RuntimeOptions};
