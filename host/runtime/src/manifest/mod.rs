//! The application manifest: Spin's `spin.toml` (manifest v2) with Joule's grants and limits.
//!
//! [`Manifest::load`] parses and validates the whole file once, at startup; every
//! error names the file, the component and the key.

mod allowed_hosts;
mod error;
mod raw;
mod template;
mod validate;
mod validate_ocpp;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use allowed_hosts::AllowedHosts;
pub use error::ManifestError;
pub use template::{Template, is_variable_name};


/// A validated `spin.toml`.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The manifest file, for error messages.
    pub file: PathBuf,
    /// The directory relative paths are resolved against.
    pub root: PathBuf,
    pub application: Application,
    pub variables: BTreeMap<String, Variable>,
    pub components: BTreeMap<String, ComponentConfig>,
    pub http_triggers: Vec<HttpTriggerConfig>,
    pub amqp_triggers: Vec<AmqpTriggerConfig>,
    pub schedule_triggers: Vec<ScheduleTriggerConfig>,
    pub ocpp_triggers: Vec<OcppTriggerConfig>,
}

#[derive(Debug, Clone)]
pub struct Application {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    /// The path every HTTP route is mounted under; "/" by default.
    pub http_base: String,
}

/// An application variable from `[variables]`.
#[derive(Debug, Clone)]
pub struct Variable {
    pub default: Option<String>,
    pub required: bool,
    pub secret: bool,
}

#[derive(Debug, Clone)]
pub struct ComponentConfig {
    pub id: String,
    /// The component's wasm file, resolved against the manifest's directory.
    pub source: PathBuf,
    /// The component's variables, as templates over the application's variables.
    pub variables: BTreeMap<String, Template>,
    pub environment: BTreeMap<String, String>,
    pub grants: Grants,
    pub limits: Limits,
    pub build: Option<BuildConfig>,
}

/// What a component may import. Anything not granted here is refused at load.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    pub database: Option<DatabaseGrant>,
    pub key_value: bool,
    pub events_publish: BTreeSet<String>,
    pub pricing: Option<PricingGrant>,
    pub templates: Option<TemplatesGrant>,
    pub timers: Option<TimersGrant>,
    pub variables: bool,
    pub outbound_http: AllowedHosts,
    /// Whether it may ask who is calling.
    pub identity: bool,
    /// Whether it may send CALLs to charge points; their results come to its event handler.
    pub ocpp: bool,
    /// Whether it may send email, and from whom.
    pub smtp: Option<SmtpGrant>,
}

/// The sender every message of a component carries; a guest cannot choose another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpGrant {
    pub from: lettre::message::Mailbox,
}

#[derive(Debug, Clone, Default)]
pub struct DatabaseGrant {
    /// Directory of the component's migrations, resolved against the manifest's directory.
    pub migrations: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct PricingGrant {
    /// The rules the component may run; empty means any.
    pub rules: BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TemplatesGrant {
    /// The templates the component may run; empty means any.
    pub names: BTreeSet<String>,
}

/// The timers a component may schedule, and how their deliveries are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimersGrant {
    /// The event types its timers may deliver to its own handler.
    pub events: BTreeSet<String>,
    pub retry: Retry,
}

/// Per-invocation limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub memory_bytes: u64,
    pub timeout: Duration,
    pub fuel: Option<u64>,
    pub max_concurrency: Option<u32>,
}

impl Limits {
    pub const DEFAULT_MEMORY_BYTES: u64 = 128 << 20;
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: Self::DEFAULT_MEMORY_BYTES,
            timeout: Self::DEFAULT_TIMEOUT,
            fuel: None,
            max_concurrency: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuildConfig {
    /// Shell command lines, run in order.
    pub commands: Vec<String>,
    /// Where they run, resolved against the manifest's directory.
    pub workdir: PathBuf,
    pub environment: BTreeMap<String, String>,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone)]
pub struct HttpTriggerConfig {
    /// Position in the file, for error messages (`trigger.http[2]`).
    pub index: usize,
    /// The route pattern; `None` for a private route, which is not served.
    pub route: Option<String>,
    pub component: String,
    /// Who may call the route.
    pub policy: joule_identity::RoutePolicy,
    /// How often one caller may call it.
    pub rate_limit: Option<RateLimitConfig>,
}

/// A route's `rate_limit`: requests per second for each caller, with bursts up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitConfig {
    pub per_second: f64,
    pub burst: u32,
    pub key: RateLimitKey,
}

/// Whose requests a rate limit counts together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitKey {
    /// The verified caller's subject; anonymous callers are counted by address.
    Subject,
    /// The client's address.
    Ip,
}

impl HttpTriggerConfig {
    /// The key naming this entry in error messages.
    pub fn key(&self, field: &str) -> String {
        format!("trigger.http[{}].{field}", self.index)
    }
}

/// One `[[trigger.amqp]]` entry: a component handling the events it binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpTriggerConfig {
    pub index: usize,
    pub component: String,
    /// Routing-key patterns on the events exchange.
    pub events: Vec<String>,
    pub prefetch: u16,
    pub retry: Retry,
}

impl AmqpTriggerConfig {
    pub const DEFAULT_PREFETCH: u16 = 16;

    /// The key naming this entry in error messages.
    pub fn key(&self, field: &str) -> String {
        format!("trigger.amqp[{}].{field}", self.index)
    }
}

/// How a failed delivery is retried: after each failure a delay, the backoff doubled for
/// each earlier failure up to `max_backoff`; after `max_attempts`, it is dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub max_attempts: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Retry {
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
    pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);
    pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(300);

    /// The delay before delivery `attempt + 1`, after `attempt` failed.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.backoff.saturating_mul(1 << doublings).min(self.max_backoff)
    }
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            backoff: Self::DEFAULT_BACKOFF,
            max_backoff: Self::DEFAULT_MAX_BACKOFF,
        }
    }
}

/// One `[[trigger.schedule]]` entry: an event delivered to a component at each tick.
#[derive(Debug, Clone)]
pub struct ScheduleTriggerConfig {
    pub index: usize,
    pub component: String,
    /// The pattern as written: five fields, or six with seconds first.
    pub cron: String,
    pub schedule: croner::Cron,
    pub time_zone: chrono_tz::Tz,
    /// The event type each tick delivers.
    pub event: String,
}

impl ScheduleTriggerConfig {
    /// The key naming this entry in error messages.
    pub fn key(&self, field: &str) -> String {
        format!("trigger.schedule[{}].{field}", self.index)
    }

    /// What identifies the schedule across restarts and replicas: a changed pattern, time
    /// zone or event is a new schedule.
    pub fn identity(&self) -> String {
        format!("{} | {} | {}", self.cron, self.time_zone.name(), self.event)
    }

    /// The first tick after `after`, if the pattern has one.
    pub fn next_tick(&self, after: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
        let local = after.with_timezone(&self.time_zone);
        self.schedule.find_next_occurrence(&local, false).ok().map(|tick| tick.with_timezone(&chrono::Utc))
    }
}

/// One `[[trigger.ocpp]]` entry: charge points connecting under `prefix` are handled by
/// `component`, except the actions `actions` routes to other components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcppTriggerConfig {
    pub index: usize,
    /// The route as written, such as "/ocpp/:chargePointId".
    pub route: String,
    /// The path before the charge point id, such as "/ocpp".
    pub prefix: String,
    pub component: String,
    /// OCPP action name to the component handling it instead.
    pub actions: BTreeMap<String, String>,
}

impl OcppTriggerConfig {
    /// The route's last segment, which names the charge point.
    pub const ID_SEGMENT: &str = ":chargePointId";
    /// The events the host publishes of each connection, through the route component's
    /// outbox (a unit of work of its own), whatever that component's grants say.
    pub const CONNECTED_EVENT: &str = "charge-point.connected.v1";
    pub const DISCONNECTED_EVENT: &str = "charge-point.disconnected.v1";

    /// The key naming this entry in error messages.
    pub fn key(&self, field: &str) -> String {
        format!("trigger.ocpp[{}].{field}", self.index)
    }

    /// The component that handles `action`.
    pub fn component_for(&self, action: &str) -> &str {
        self.actions.get(action).map_or(&self.component, String::as_str)
    }

    /// Every component this entry runs, the default first.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.component.as_str()).chain(self.actions.values().map(String::as_str))
    }
}

impl Manifest {
    /// Reads and validates a manifest file.
    pub fn load(file: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| ManifestError::new(file, format!("cannot read the manifest: {e}")))?;
        Self::parse(file, &text)
    }

    /// Validates manifest text; `file` locates errors and relative paths.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ManifestError> {
        validate::parse(file, text)
    }

    /// A manifest error about this manifest's file.
    pub fn error(&self, message: impl Into<String>) -> ManifestError {
        ManifestError::new(&self.file, message)
    }

    pub fn component(&self, id: &str) -> Option<&ComponentConfig> {
        self.components.get(id)
    }
}
