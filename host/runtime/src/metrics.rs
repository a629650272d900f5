//! The platform's Prometheus metrics. Triggers record each invocation; the admin listener
//! encodes them in the OpenMetrics text format.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InvocationLabels {
    component: String,
    version: String,
    trigger: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TriggerLabels {
    component: String,
    trigger: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabels {
    component: String,
}

type Histograms = Family<TriggerLabels, Histogram, fn() -> Histogram>;

/// From 100 µs to about 6.5 s, doubling.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

pub struct Metrics {
    registry: Registry,
    invocations: Family<InvocationLabels, Counter>,
    durations: Histograms,
    instantiations: Histograms,
    retries: Family<ComponentLabels, Counter>,
    dead_letters: Family<ComponentLabels, Counter>,
    active_versions: Family<ComponentLabels, Gauge>,
    outbox_backlog: Gauge,
    pool_idle_resident: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("joule");
        let invocations = Family::<InvocationLabels, Counter>::default();
        let durations: Histograms = Family::new_with_constructor(seconds_histogram);
        let instantiations: Histograms = Family::new_with_constructor(seconds_histogram);
        let retries = Family::<ComponentLabels, Counter>::default();
        let dead_letters = Family::<ComponentLabels, Counter>::default();
        let active_versions = Family::<ComponentLabels, Gauge>::default();
        let outbox_backlog = Gauge::default();
        let pool_idle_resident = Gauge::default();
        registry.register("invocations", "Invocations, by component, version, trigger and outcome", invocations.clone());
        registry.register("invocation_duration_seconds", "How long invocations took, end to end", durations.clone());
        registry.register("instantiation_duration_seconds", "How long making an instance took", instantiations.clone());
        registry.register("consumer_retries", "Queue messages scheduled for another attempt", retries.clone());
        registry.register("dead_lettered", "Queue messages moved to the dead-letter queue", dead_letters.clone());
        registry.register("component_active_version", "The version of each component new invocations use", active_versions.clone());
        registry.register("outbox_backlog", "Committed events the broker has not yet confirmed", outbox_backlog.clone());
        registry.register(
            "pool_idle_resident_bytes",
            "Memory the instance pool's idle slots keep resident, within --pool-resident-budget",
            pool_idle_resident.clone(),
        );
        Self {
            registry,
            invocations,
            durations,
            instantiations,
            retries,
            dead_letters,
            active_versions,
            outbox_backlog,
            pool_idle_resident,
        }
    }
}

impl Metrics {
    /// Counts one finished invocation and its duration.
    pub fn invocation(&self, component: &str, version: u32, trigger: &str, outcome: &str, took: Duration) {
        let labels = InvocationLabels {
            component: component.into(),
            version: version.to_string(),
            trigger: trigger.into(),
            outcome: outcome.into(),
        };
        self.invocations.get_or_create(&labels).inc();
        let labels = TriggerLabels { component: component.into(), trigger: trigger.into() };
        self.durations.get_or_create(&labels).observe(took.as_secs_f64());
    }

    pub fn instantiation(&self, component: &str, trigger: &str, took: Duration) {
        let labels = TriggerLabels { component: component.into(), trigger: trigger.into() };
        self.instantiations.get_or_create(&labels).observe(took.as_secs_f64());
    }

    pub fn retry(&self, component: &str) {
        self.retries.get_or_create(&ComponentLabels { component: component.into() }).inc();
    }

    pub fn dead_letter(&self, component: &str) {
        self.dead_letters.get_or_create(&ComponentLabels { component: component.into() }).inc();
    }

    pub(crate) fn active_version(&self, component: &str, version: u32) {
        self.active_versions.get_or_create(&ComponentLabels { component: component.into() }).set(i64::from(version));
    }

    pub(crate) fn outbox_backlog(&self, events: u64) {
        self.outbox_backlog.set(i64::try_from(events).unwrap_or(i64::MAX));
    }

    pub(crate) fn pool_idle_resident(&self, bytes: u64) {
        self.pool_idle_resident.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Everything, in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
