//! `spin.toml` as written: Spin's manifest v2, plus Joule's grants and limits.
//!
//! Unknown keys are errors, so a typo never silently drops a grant or a limit.
//! Fields that accept several shapes in Spin are read as `toml::Value` and
//! checked in `validate`, which can then say exactly what is supported.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawManifest {
    pub spin_manifest_version: toml::Value,
    pub application: RawApplication,
    #[serde(default)]
    pub variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    pub trigger: RawTriggers,
    #[serde(default)]
    pub component: BTreeMap<String, RawComponent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApplication {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted so Spin manifests load; Joule does not use it")]
    pub authors: Vec<String>,
    #[serde(default)]
    pub trigger: RawApplicationTriggers,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApplicationTriggers {
    pub http: Option<RawHttpSettings>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttpSettings {
    pub base: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariable {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
    #[allow(dead_code, reason = "accepted so Spin manifests load; Joule does not use it")]
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTriggers {
    #[serde(default)]
    pub http: Vec<RawHttpTrigger>,
    #[serde(default)]
    pub amqp: Vec<RawAmqpTrigger>,
    #[serde(default)]
    pub schedule: Vec<RawScheduleTrigger>,
    #[serde(default)]
    pub ocpp: Vec<RawOcppTrigger>,
}

/// Joule: OCPP charge points connecting over WebSocket, each CALL handled by a component.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOcppTrigger {
    /// A path ending in `/:chargePointId`, such as "/ocpp/:chargePointId".
    pub route: String,
    /// The component that decides who connects and handles every action not in `actions`.
    pub component: String,
    /// Actions handled by another component, such as `{ Authorize = "accounts" }`.
    #[serde(default)]
    pub actions: BTreeMap<String, String>,
}

/// Joule: an event delivered to a component on a cron schedule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScheduleTrigger {
    pub component: String,
    /// Five fields (minute to day of week), or six with seconds first.
    pub cron: String,
    /// IANA name the schedule is read in; UTC by default.
    pub time_zone: Option<String>,
    /// The event type delivered on each tick.
    pub event: String,
}

/// Joule: a component that handles events from its queue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAmqpTrigger {
    pub component: String,
    /// Event types to bind, with AMQP topic wildcards (`*` one word, `#` any words).
    pub events: Vec<String>,
    /// Messages handled at once.
    pub prefetch: Option<u16>,
    /// Deliveries before a message is dead-lettered.
    pub max_attempts: Option<u32>,
    /// The first retry's delay, doubled for each later one, such as "1s".
    pub backoff: Option<String>,
    /// The longest retry delay, such as "5m".
    pub max_backoff: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttpTrigger {
    #[allow(dead_code, reason = "accepted so Spin manifests load; Joule does not use it")]
    pub id: Option<String>,
    /// A path, or `{ private = true }`.
    pub route: toml::Value,
    pub component: toml::Value,
    pub executor: Option<toml::Value>,
    /// Joule: "required" (the default), "optional" or "public".
    pub auth: Option<String>,
    /// Joule: the caller needs one of these roles.
    pub roles: Option<Vec<String>>,
    /// Joule: `{ per_second, burst, key = "subject" | "ip" }`.
    pub rate_limit: Option<RawRateLimit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    pub per_second: f64,
    pub burst: Option<u32>,
    pub key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawComponent {
    /// A local path; Spin's `{ url, digest }` form is refused with a clear message.
    pub source: toml::Value,
    #[allow(dead_code, reason = "accepted so Spin manifests load; Joule does not use it")]
    pub description: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    pub build: Option<RawBuild>,
    /// Joule: the component gets its own database (schema on Postgres, file on SQLite).
    pub database: Option<RawDatabaseGrant>,
    /// Joule: the event types the component may publish.
    pub events: Option<RawEventsGrant>,
    /// Joule: the component may run pricing rules.
    pub pricing: Option<RawPricingGrant>,
    /// Joule: the component may render events with notification templates.
    pub templates: Option<RawTemplatesGrant>,
    /// Joule: the component may schedule timers for the event types listed.
    pub timers: Option<RawTimersGrant>,
    /// Joule: per-invocation limits.
    pub limits: Option<RawLimits>,
    /// Joule: the component may ask who is calling.
    #[serde(default)]
    pub identity: bool,
    /// Joule: the component may send CALLs to charge points (`ocpp = {}`).
    pub ocpp: Option<RawOcppGrant>,
    /// Joule: the component may send email (`smtp = { from = "..." }`).
    pub smtp: Option<RawSmtpGrant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBuild {
    /// A shell command line, or a list of them run in order.
    pub command: toml::Value,
    pub workdir: Option<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted so Spin manifests load; Joule does not use it")]
    pub watch: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabaseGrant {
    /// Directory of `<version>_<name>.sql` files, relative to the manifest.
    pub migrations: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEventsGrant {
    #[serde(default)]
    pub publish: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPricingGrant {
    /// The rules the component may run; empty means any deployed rule.
    #[serde(default)]
    pub rules: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTemplatesGrant {
    /// The templates the component may run; empty means any deployed template.
    #[serde(default)]
    pub names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimersGrant {
    /// The event types its timers may deliver.
    #[serde(default)]
    pub events: Vec<String>,
    /// Deliveries before a timer is kept as dead.
    pub max_attempts: Option<u32>,
    /// The first retry's delay, doubled for each later one, such as "1s".
    pub backoff: Option<String>,
    /// The longest retry delay, such as "5m".
    pub max_backoff: Option<String>,
}

/// No options yet; a table, so that some can come without changing what grants it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOcppGrant {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtpGrant {
    /// The sender of every message, a mailbox such as "Joule <noreply@joule.example>".
    pub from: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Linear memory, such as "64MiB".
    pub memory: Option<String>,
    /// Wall-clock time per invocation, such as "5s" or "500ms".
    pub timeout: Option<String>,
    /// Wasm fuel per invocation.
    pub fuel: Option<u64>,
    /// Invocations running at once; more are refused with 503.
    pub max_concurrency: Option<u32>,
}
