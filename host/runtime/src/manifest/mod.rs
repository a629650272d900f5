//! The application manifest: Spin's `spin.toml` (manifest v2) with Joule's grants and limits.
//!
//! [`Manifest::load`] parses and validates the whole file once, at startup; every
//! error names the file, the component and the key.

mod allowed_hosts;
mod error;
mod raw;
mod template;
mod validate;

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
    pub variables: bool,
    pub outbound_http: AllowedHosts,
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
    pub max_attempts: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl AmqpTriggerConfig {
    pub const DEFAULT_PREFETCH: u16 = 16;
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
    pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);
    pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(300);

    /// The key naming this entry in error messages.
    pub fn key(&self, field: &str) -> String {
        format!("trigger.amqp[{}].{field}", self.index)
    }

    /// The delay before delivery `attempt + 1`, after `attempt` failed: the backoff,
    /// doubled for each earlier failure, at most `max_backoff`.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.backoff.saturating_mul(1 << doublings).min(self.max_backoff)
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
