//! Brokers: where relayed events go, and where queue triggers take them from.
//! RabbitMQ in production; an embedded broker, durable in the local store, by default.

pub mod embedded;
pub mod rabbitmq;
mod rabbitmq_bindings;
mod topic;

use std::time::Duration;

use async_trait::async_trait;

pub use topic::matches as topic_matches;

use super::Envelope;

/// A consumer's queue: its bindings and how its failures are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    /// `joule.<application>.<component>`.
    pub name: String,
    /// Routing-key patterns on the events exchange.
    pub patterns: Vec<String>,
    /// Deliveries in flight at once.
    pub prefetch: u16,
    /// The delay before each retry: `retry_delays[n - 1]` follows failed attempt `n`.
    pub retry_delays: Vec<Duration>,
    /// For a queue one replica consumes alone: where its messages go when it is gone.
    pub handover: Option<Handover>,
}

/// A replica's own queue outlives the replica on a shared broker: a message that waits in
/// it longer than `after` (nobody consumes it) is published again with `routing_key`, and
/// the queue goes once unused for `expires`. The embedded broker has one replica, whose
/// queues come back with it, so it ignores this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub after: Duration,
    pub routing_key: String,
    pub expires: Duration,
}

impl QueueSpec {
    /// Where messages go when they will not be retried.
    pub fn dead_letter_queue(&self) -> String {
        format!("{}.dlq", self.name)
    }
}

/// Headers a dead-lettered message carries.
pub const REASON_HEADER: &str = "x-joule-reason";
pub const ATTEMPTS_HEADER: &str = "x-joule-attempts";
/// The delivery attempt a retried message is on.
pub const ATTEMPT_HEADER: &str = "x-joule-attempt";

#[async_trait]
pub trait Broker: Send + Sync {
    fn name(&self) -> &'static str;

    /// Whether other processes may use this broker too; when not, this process is the only
    /// replica there is.
    fn shared(&self) -> bool {
        true
    }

    /// Publishes events to the events exchange, each with its type as routing key, and
    /// returns only once the broker has accepted all of them durably.
    async fn publish(&self, events: &[Envelope]) -> anyhow::Result<()>;

    /// Declares a durable queue, its bindings, its retry delays and its dead-letter queue.
    async fn declare(&self, queue: &QueueSpec) -> anyhow::Result<()>;

    /// Starts taking deliveries from a declared queue.
    async fn consume(&self, queue: &QueueSpec) -> anyhow::Result<Box<dyn Deliveries>>;

    /// Checks that the broker can be reached, for readiness.
    async fn ping(&self) -> anyhow::Result<()>;
}

/// A stream of deliveries from one queue.
#[async_trait]
pub trait Deliveries: Send {
    /// The next delivery; an error means the consumer is gone and must be started again.
    async fn next(&mut self) -> anyhow::Result<Delivery>;
}

/// One message, to be settled exactly once.
pub struct Delivery {
    pub body: Vec<u8>,
    /// 1 for the first delivery, then counting the retries.
    pub attempt: u32,
    pub settle: Box<dyn Settle>,
}

#[async_trait]
pub trait Settle: Send {
    /// Done with: the message goes away.
    async fn ack(self: Box<Self>) -> anyhow::Result<()>;
    /// Delivers the message again as `attempt`, after `delay`.
    async fn retry(self: Box<Self>, attempt: u32, delay: Duration) -> anyhow::Result<()>;
    /// Moves the message to the dead-letter queue with why, and after how many attempts.
    async fn dead_letter(self: Box<Self>, reason: &str, attempts: u32) -> anyhow::Result<()>;
}
