//! The event pipeline: envelopes written to an outbox inside units of work, a relay that
//! moves committed ones to a broker, and the brokers queue triggers consume from.

pub mod broker;
mod envelope;
pub mod outbox;
mod relay;

pub use broker::{Broker, Deliveries, Delivery, Handover, QueueSpec, Settle};
pub use envelope::{CONTENT_TYPE, ENVELOPE_CONTENT_TYPE, Envelope, SPEC_VERSION};
pub use outbox::{Outbox, OutboxKey, Pending};
pub use relay::Relay;
