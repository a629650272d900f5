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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    component: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OcppLabels {
    action: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
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
    timers_pending: Gauge,
    timers_fired: Family<OutcomeLabels, Counter>,
    timer_lateness: Family<ComponentLabels, Histogram, fn() -> Histogram>,
    ocpp_connected: Gauge,
    ocpp_messages: Family<OcppLabels, Counter>,
    ocpp_calls: Family<OcppLabels, Counter>,
    ocpp_calls_forwarded: Counter,
    ocpp_answer_durations: Family<ActionLabels, Histogram, fn() -> Histogram>,
    emails_sent: Family<OutcomeLabels, Counter>,
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
        let timers_pending = Gauge::default();
        let timers_fired = Family::<OutcomeLabels, Counter>::default();
        // From 1 ms to about a minute, doubling.
        let timer_lateness: Family<ComponentLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 17)));
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
        registry.register("timers_pending", "Timers waiting, due or not", timers_pending.clone());
        registry.register(
            "timers_fired",
            "Timer deliveries, by component and outcome: delivered, duplicate, retried or dead",
            timers_fired.clone(),
        );
        registry.register(
            "timer_lateness_seconds",
            "How long after its due time a timer was first delivered",
            timer_lateness.clone(),
        );
        let ocpp_connected = Gauge::default();
        let ocpp_messages = Family::<OcppLabels, Counter>::default();
        let ocpp_calls = Family::<OcppLabels, Counter>::default();
        let ocpp_calls_forwarded = Counter::default();
        let ocpp_answer_durations: Family<ActionLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(seconds_histogram);
        registry.register("ocpp_connected_charge_points", "Charge points connected to this replica", ocpp_connected.clone());
        registry.register(
            "ocpp_messages",
            "CALLs from charge points, by action and outcome: result, call_error, refused (by the host) or replayed",
            ocpp_messages.clone(),
        );
        registry.register(
            "ocpp_calls",
            "CALLs the platform sent to charge points, by action and outcome: result, call-error, timeout, not-connected, invalid or failed",
            ocpp_calls.clone(),
        );
        registry.register(
            "ocpp_calls_forwarded",
            "CALLs to charge points this replica took from the shared queue and forwarded to the replica holding the charge point",
            ocpp_calls_forwarded.clone(),
        );
        registry.register(
            "ocpp_answer_duration_seconds",
            "From a charge point's CALL arriving to its answer being sent, by action",
            ocpp_answer_durations.clone(),
        );
        let emails_sent = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "emails_sent",
            "Calls to email send, by component and outcome: sent, invalid, unavailable or rejected",
            emails_sent.clone(),
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
            timers_pending,
            timers_fired,
            timer_lateness,
            ocpp_connected,
            ocpp_messages,
            ocpp_calls,
            ocpp_calls_forwarded,
            ocpp_answer_durations,
            emails_sent,
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

    pub(crate) fn timers_pending(&self, timers: u64) {
        self.timers_pending.set(i64::try_from(timers).unwrap_or(i64::MAX));
    }

    /// Counts a timer's delivery and, on its first attempt, how late it came.
    pub fn timer_fired(&self, component: &str, outcome: &str, late: Option<Duration>) {
        self.timers_fired.get_or_create(&OutcomeLabels { component: component.into(), outcome: outcome.into() }).inc();
        if let Some(late) = late {
            self.timer_lateness.get_or_create(&ComponentLabels { component: component.into() }).observe(late.as_secs_f64());
        }
    }

    pub fn ocpp_connected(&self, charge_points: usize) {
        self.ocpp_connected.set(i64::try_from(charge_points).unwrap_or(i64::MAX));
    }

    /// Counts a charge point's CALL and, when it was answered after running, how long that took.
    pub fn ocpp_message(&self, action: &str, outcome: &str, answered_in: Option<Duration>) {
        self.ocpp_messages.get_or_create(&OcppLabels { action: action.into(), outcome: outcome.into() }).inc();
        if let Some(took) = answered_in {
            self.ocpp_answer_durations.get_or_create(&ActionLabels { action: action.into() }).observe(took.as_secs_f64());
        }
    }

    /// Counts a call the platform sent a charge point, by how it ended.
    pub fn ocpp_call(&self, action: &str, outcome: &str) {
        self.ocpp_calls.get_or_create(&OcppLabels { action: action.into(), outcome: outcome.into() }).inc();
    }

    pub fn ocpp_call_forwarded(&self) {
        self.ocpp_calls_forwarded.inc();
    }

    /// Counts one call to email send, by how it ended.
    pub(crate) fn email_sent(&self, component: &str, outcome: &str) {
        self.emails_sent.get_or_create(&OutcomeLabels { component: component.into(), outcome: outcome.into() }).inc();
    }

    /// Everything, in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
