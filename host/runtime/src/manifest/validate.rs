//! Turns the raw TOML into a [`Manifest`], checking everything that can be checked
//! without loading a component.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use joule_identity::{Auth, RoutePolicy};

use super::raw::{
    RawAmqpTrigger, RawComponent, RawHttpTrigger, RawLimits, RawManifest, RawRateLimit, RawScheduleTrigger, RawVariable,
};
use super::{
    AllowedHosts, AmqpTriggerConfig, Application, BuildConfig, ComponentConfig, DatabaseGrant, Grants, HttpTriggerConfig, Limits,
    Manifest, ManifestError, PricingGrant, RateLimitConfig, RateLimitKey, Retry, ScheduleTriggerConfig, SmtpGrant, Template, TemplatesGrant,
    TimersGrant, Variable, is_variable_name,
};

/// The only key-value store label; Joule gives each component one key space.
const DEFAULT_STORE: &str = "default";

pub(super) fn parse(file: &Path, text: &str) -> Result<Manifest, ManifestError> {
    let raw = deserialize(file, text)?;
    let root = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = if root.as_os_str().is_empty() { PathBuf::from(".") } else { root };
    Validator { file, root: &root }.manifest(raw, root.clone())
}

fn deserialize(file: &Path, text: &str) -> Result<RawManifest, ManifestError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let deserializer = toml::Deserializer::parse(text).map_err(|e| {
        let line = e.span().map(|span| line_of(span.start));
        ManifestError { line, ..ManifestError::new(file, e.message().trim().to_string()) }
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let line = inner.span().map(|span| line_of(span.start));
        ManifestError::from_path(file.to_path_buf(), line, &path, inner.message().trim().to_string())
    })
}

pub(super) struct Validator<'a> {
    file: &'a Path,
    root: &'a Path,
}

impl Validator<'_> {
    pub(super) fn error(&self, key: impl Into<String>, message: impl Into<String>) -> ManifestError {
        ManifestError::new(self.file, message).at_key(key)
    }

    fn component_error(&self, id: &str, key: &str, message: impl Into<String>) -> ManifestError {
        ManifestError::new(self.file, message).in_component(id).at_key(key)
    }

    fn manifest(&self, raw: RawManifest, root: PathBuf) -> Result<Manifest, ManifestError> {
        if raw.spin_manifest_version.as_integer() != Some(2) {
            return Err(self.error(
                "spin_manifest_version",
                format!("must be 2 (Spin's manifest v2), found {}", raw.spin_manifest_version),
            ));
        }
        let application = self.application(&raw)?;
        let variables = self.variables(raw.variables)?;
        let mut components = BTreeMap::new();
        for (id, component) in raw.component {
            let config = self.component(&id, component, &variables)?;
            components.insert(id, config);
        }
        let http_triggers = raw
            .trigger
            .http
            .into_iter()
            .enumerate()
            .map(|(index, trigger)| self.http_trigger(index, trigger, &components))
            .collect::<Result<Vec<_>, _>>()?;
        let mut amqp_triggers: Vec<AmqpTriggerConfig> = Vec::new();
        for (index, trigger) in raw.trigger.amqp.into_iter().enumerate() {
            let trigger = self.amqp_trigger(index, trigger, &components)?;
            if let Some(twin) = amqp_triggers.iter().find(|t| t.component == trigger.component) {
                return Err(self.error(
                    trigger.key("component"),
                    format!(
                        "component {:?} already has a queue at trigger.amqp[{}]; list every event it handles there",
                        trigger.component, twin.index
                    ),
                ));
            }
            amqp_triggers.push(trigger);
        }
        let schedule_triggers = raw
            .trigger
            .schedule
            .into_iter()
            .enumerate()
            .map(|(index, trigger)| self.schedule_trigger(index, trigger, &components))
            .collect::<Result<Vec<_>, _>>()?;
        let ocpp_triggers = self.ocpp_triggers(raw.trigger.ocpp, &components)?;
        Ok(Manifest {
            file: self.file.to_path_buf(),
            root,
            application,
            variables,
            components,
            http_triggers,
            amqp_triggers,
            schedule_triggers,
            ocpp_triggers,
        })
    }

    fn application(&self, raw: &RawManifest) -> Result<Application, ManifestError> {
        let app = &raw.application;
        if !is_component_id(&app.name.replace('_', "-").to_lowercase()) {
            return Err(self.error(
                "application.name",
                format!("{:?} is not a valid name (letters, digits, '-' and '_')", app.name),
            ));
        }
        let http_base = match app.trigger.http.as_ref().and_then(|http| http.base.clone()) {
            None => "/".to_string(),
            Some(base) if base.starts_with('/') => base,
            Some(base) => {
                return Err(self.error(
                    "application.trigger.http.base",
                    format!("{base:?} must start with '/'"),
                ));
            }
        };
        Ok(Application {
            name: app.name.clone(),
            version: app.version.clone(),
            description: app.description.clone(),
            http_base,
        })
    }

    fn variables(
        &self,
        raw: BTreeMap<String, RawVariable>,
    ) -> Result<BTreeMap<String, Variable>, ManifestError> {
        raw.into_iter()
            .map(|(name, variable)| {
                let key = format!("variables.{name}");
                if !is_variable_name(&name) {
                    return Err(self.error(
                        key,
                        "a variable name has lowercase letters, digits and '_', starting with a letter",
                    ));
                }
                if variable.required && variable.default.is_some() {
                    return Err(self.error(key, "a required variable cannot have a default"));
                }
                if !variable.required && variable.default.is_none() {
                    return Err(self.error(key, "give the variable a default, or set required = true"));
                }
                let variable = Variable {
                    default: variable.default,
                    required: variable.required,
                    secret: variable.secret,
                };
                Ok((name, variable))
            })
            .collect()
    }

    fn component(
        &self,
        id: &str,
        raw: RawComponent,
        app_variables: &BTreeMap<String, Variable>,
    ) -> Result<ComponentConfig, ManifestError> {
        if !is_component_id(id) {
            return Err(ManifestError::new(
                self.file,
                "a component id has lowercase letters, digits and single '-', starts with a letter, \
                 and is at most 48 characters",
            )
            .in_component(id));
        }
        let source = match &raw.source {
            toml::Value::String(path) => self.root.join(path),
            _ => {
                return Err(self.component_error(
                    id,
                    "source",
                    "only a local file path is supported, such as source = \"target/x.wasm\"",
                ));
            }
        };
        let mut variables = BTreeMap::new();
        for (name, text) in &raw.variables {
            let key = format!("variables.{name}");
            if !is_variable_name(name) {
                return Err(self.component_error(
                    id,
                    &key,
                    "a variable name has lowercase letters, digits and '_', starting with a letter",
                ));
            }
            let template = Template::parse(text).map_err(|e| self.component_error(id, &key, e))?;
            if let Some(missing) = template.variables().find(|v| !app_variables.contains_key(*v)) {
                return Err(self.component_error(
                    id,
                    &key,
                    format!("refers to {missing:?}, which [variables] does not declare"),
                ));
            }
            variables.insert(name.clone(), template);
        }
        let grants = self.grants(id, &raw, !variables.is_empty())?;
        let limits = self.limits(id, raw.limits.as_ref())?;
        let build = raw.build.map(|build| self.build(id, build)).transpose()?;
        Ok(ComponentConfig {
            id: id.to_string(),
            source,
            variables,
            environment: raw.environment,
            grants,
            limits,
            build,
        })
    }

    fn grants(&self, id: &str, raw: &RawComponent, variables: bool) -> Result<Grants, ManifestError> {
        for (i, store) in raw.key_value_stores.iter().enumerate() {
            if store != DEFAULT_STORE {
                return Err(self.component_error(
                    id,
                    &format!("key_value_stores[{i}]"),
                    format!("only the {DEFAULT_STORE:?} store exists; each component has its own key space"),
                ));
            }
        }
        let events_publish = self.event_types(id, "events.publish", raw.events.iter().flat_map(|e| &e.publish))?;
        let timers = raw.timers.as_ref().map(|timers| self.timers_grant(id, timers)).transpose()?;
        let outbound_http = AllowedHosts::parse(&raw.allowed_outbound_hosts)
            .map_err(|(i, e)| self.component_error(id, &format!("allowed_outbound_hosts[{i}]"), e))?;
        let smtp = raw.smtp.as_ref().map(|smtp| self.smtp_grant(id, smtp)).transpose()?;
        Ok(Grants {
            database: raw.database.as_ref().map(|db| DatabaseGrant {
                migrations: db.migrations.as_ref().map(|dir| self.root.join(dir)),
            }),
            key_value: !raw.key_value_stores.is_empty(),
            events_publish,
            pricing: raw
                .pricing
                .as_ref()
                .map(|p| PricingGrant { rules: p.rules.iter().cloned().collect() }),
            templates: raw
                .templates
                .as_ref()
                .map(|t| TemplatesGrant { names: t.names.iter().cloned().collect() }),
            timers,
            variables,
            outbound_http,
            identity: raw.identity,
            ocpp: raw.ocpp.is_some(),
            smtp,
        })
    }

    fn smtp_grant(&self, id: &str, raw: &super::raw::RawSmtpGrant) -> Result<SmtpGrant, ManifestError> {
        let from = raw.from.parse().map_err(|e| {
            self.component_error(
                id,
                "smtp.from",
                format!("{:?} is not a mailbox such as \"Joule <noreply@joule.example>\": {e}", raw.from),
            )
        })?;
        Ok(SmtpGrant { from })
    }

    /// Event types as a grant lists them under `key`; wildcards are refused.
    fn event_types<'t>(
        &self,
        id: &str,
        key: &str,
        types: impl Iterator<Item = &'t String>,
    ) -> Result<BTreeSet<String>, ManifestError> {
        let mut checked = BTreeSet::new();
        for (i, event_type) in types.enumerate() {
            if !is_event_type(event_type) {
                return Err(self.component_error(
                    id,
                    &format!("{key}[{i}]"),
                    format!(
                        "{event_type:?} is not an event type such as \"station.created.v1\" \
                         (lowercase dotted words, no wildcards)"
                    ),
                ));
            }
            checked.insert(event_type.clone());
        }
        Ok(checked)
    }

    fn timers_grant(&self, id: &str, raw: &super::raw::RawTimersGrant) -> Result<TimersGrant, ManifestError> {
        let events = self.event_types(id, "timers.events", raw.events.iter())?;
        if events.is_empty() {
            return Err(self.component_error(
                id,
                "timers.events",
                "list the event types its timers deliver, such as [\"reservation.no-show-check.v1\"]",
            ));
        }
        let error_at = |field: &str, message: String| self.component_error(id, &format!("timers.{field}"), message);
        let retry = self.retry(error_at, raw.max_attempts, raw.backoff.as_deref(), raw.max_backoff.as_deref())?;
        Ok(TimersGrant { events, retry })
    }

    fn limits(&self, id: &str, raw: Option<&RawLimits>) -> Result<Limits, ManifestError> {
        let mut limits = Limits::default();
        let Some(raw) = raw else { return Ok(limits) };
        if let Some(memory) = &raw.memory {
            let bytes = memory
                .parse::<bytesize::ByteSize>()
                .map_err(|_| {
                    self.component_error(id, "limits.memory", format!("{memory:?} is not a size such as \"64MiB\""))
                })?
                .as_u64();
            if bytes < 1 << 20 {
                return Err(self.component_error(id, "limits.memory", "must be at least 1MiB"));
            }
            limits.memory_bytes = bytes;
        }
        if let Some(timeout) = &raw.timeout {
            let duration = humantime::parse_duration(timeout).map_err(|_| {
                self.component_error(
                    id,
                    "limits.timeout",
                    format!("{timeout:?} is not a duration such as \"5s\" or \"500ms\""),
                )
            })?;
            if duration < Duration::from_millis(10) {
                return Err(self.component_error(id, "limits.timeout", "must be at least 10ms"));
            }
            limits.timeout = duration;
        }
        if raw.fuel == Some(0) {
            return Err(self.component_error(id, "limits.fuel", "must be greater than 0"));
        }
        if raw.max_concurrency == Some(0) {
            return Err(self.component_error(id, "limits.max_concurrency", "must be greater than 0"));
        }
        limits.fuel = raw.fuel;
        limits.max_concurrency = raw.max_concurrency;
        Ok(limits)
    }

    fn build(&self, id: &str, raw: super::raw::RawBuild) -> Result<BuildConfig, ManifestError> {
        let commands = match raw.command {
            toml::Value::String(command) => vec![command],
            toml::Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(command) => Ok(command),
                    _ => Err(self.component_error(id, "build.command", "each command must be a string")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(self.component_error(id, "build.command", "must be a string or a list of strings")),
        };
        if commands.iter().any(|c| c.trim().is_empty()) {
            return Err(self.component_error(id, "build.command", "a command cannot be empty"));
        }
        let workdir = raw.workdir.map_or_else(|| self.root.to_path_buf(), |dir| self.root.join(dir));
        Ok(BuildConfig { commands, workdir, environment: raw.environment })
    }

    fn http_trigger(
        &self,
        index: usize,
        raw: RawHttpTrigger,
        components: &BTreeMap<String, ComponentConfig>,
    ) -> Result<HttpTriggerConfig, ManifestError> {
        let key = |field: &str| format!("trigger.http[{index}].{field}");
        let route = match &raw.route {
            toml::Value::String(route) => Some(route.clone()),
            toml::Value::Table(table)
                if table.len() == 1 && table.get("private").and_then(toml::Value::as_bool) == Some(true) =>
            {
                None
            }
            _ => return Err(self.error(key("route"), "must be a path such as \"/api/...\" or { private = true }")),
        };
        let component = match &raw.component {
            toml::Value::String(id) => id.clone(),
            _ => {
                return Err(self.error(
                    key("component"),
                    "must name a [component.<id>] table; inline components are not supported",
                ));
            }
        };
        if !components.contains_key(&component) {
            return Err(self.error(key("component"), format!("no [component.{component}] is declared")));
        }
        if let Some(executor) = raw.executor {
            let kind = executor.get("type").and_then(toml::Value::as_str);
            if kind != Some("spin") {
                return Err(self.error(key("executor"), "only the \"spin\" executor (wasi:http) is supported"));
            }
        }
        let policy = self.route_policy(index, raw.auth.as_deref(), raw.roles)?;
        let rate_limit = raw.rate_limit.map(|limit| self.rate_limit(index, limit, &policy)).transpose()?;
        Ok(HttpTriggerConfig { index, route, component, policy, rate_limit })
    }

    fn rate_limit(&self, index: usize, raw: RawRateLimit, policy: &RoutePolicy) -> Result<RateLimitConfig, ManifestError> {
        let key = |field: &str| format!("trigger.http[{index}].rate_limit.{field}");
        if !(raw.per_second.is_finite() && raw.per_second > 0.0 && raw.per_second <= 1_000_000.0) {
            return Err(self.error(key("per_second"), "must be a number of requests above 0, up to 1000000"));
        }
        // A burst of at least one request, and by default one second's worth.
        let burst = raw.burst.unwrap_or_else(|| raw.per_second.ceil() as u32);
        if burst == 0 {
            return Err(self.error(key("burst"), "must be at least 1"));
        }
        let by = match raw.key.as_deref() {
            None | Some("subject") => RateLimitKey::Subject,
            Some("ip") => RateLimitKey::Ip,
            Some(other) => return Err(self.error(key("key"), format!("{other:?} is not a key; use \"subject\" or \"ip\""))),
        };
        if by == RateLimitKey::Subject && policy.auth == Auth::Public {
            return Err(self.error(key("key"), "a public route has no subject to count by: use key = \"ip\""));
        }
        Ok(RateLimitConfig { per_second: raw.per_second, burst, key: by })
    }

    fn route_policy(&self, index: usize, auth: Option<&str>, roles: Option<Vec<String>>) -> Result<RoutePolicy, ManifestError> {
        let key = |field: &str| format!("trigger.http[{index}].{field}");
        let auth = match auth {
            None | Some("required") => Auth::Required,
            Some("optional") => Auth::Optional,
            Some("public") => Auth::Public,
            Some(other) => {
                return Err(self.error(key("auth"), format!("{other:?} is not a policy; use \"required\", \"optional\" or \"public\"")));
            }
        };
        let roles = roles.unwrap_or_default();
        if let Some(i) = roles.iter().position(|r| r.trim().is_empty()) {
            return Err(self.error(format!("{}[{i}]", key("roles")), "a role cannot be empty"));
        }
        if !roles.is_empty() && auth != Auth::Required {
            return Err(self.error(key("roles"), "roles need a verified caller: drop them or make auth \"required\""));
        }
        Ok(RoutePolicy { auth, roles })
    }
}

impl Validator<'_> {
    fn amqp_trigger(
        &self,
        index: usize,
        raw: RawAmqpTrigger,
        components: &BTreeMap<String, ComponentConfig>,
    ) -> Result<AmqpTriggerConfig, ManifestError> {
        let key = |field: &str| format!("trigger.amqp[{index}].{field}");
        if !components.contains_key(&raw.component) {
            return Err(self.error(key("component"), format!("no [component.{}] is declared", raw.component)));
        }
        if raw.events.is_empty() {
            return Err(self.error(key("events"), "list at least one event type, such as \"station.*\""));
        }
        for (i, pattern) in raw.events.iter().enumerate() {
            if !is_event_pattern(pattern) {
                return Err(self.error(
                    format!("{}[{i}]", key("events")),
                    format!("{pattern:?} is not an event type or pattern (dotted words, `*` for one word, `#` for any)"),
                ));
            }
        }
        let error_at = |field: &str, message: String| self.error(key(field), message);
        let retry = self.retry(error_at, raw.max_attempts, raw.backoff.as_deref(), raw.max_backoff.as_deref())?;
        let prefetch = raw.prefetch.unwrap_or(AmqpTriggerConfig::DEFAULT_PREFETCH);
        if prefetch == 0 {
            return Err(self.error(key("prefetch"), "must be at least 1"));
        }
        Ok(AmqpTriggerConfig {
            index,
            component: raw.component,
            events: raw.events,
            prefetch,
            retry,
        })
    }

    /// A retry policy; `error_at` makes the error about one of its fields.
    fn retry(
        &self,
        error_at: impl Fn(&str, String) -> ManifestError,
        max_attempts: Option<u32>,
        backoff: Option<&str>,
        max_backoff: Option<&str>,
    ) -> Result<Retry, ManifestError> {
        let duration = |field: &str, text: Option<&str>, default: Duration| match text {
            None => Ok(default),
            Some(text) => humantime::parse_duration(text)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| error_at(field, format!("{text:?} is not a duration such as \"1s\""))),
        };
        let backoff = duration("backoff", backoff, Retry::DEFAULT_BACKOFF)?;
        let max_backoff = duration("max_backoff", max_backoff, Retry::DEFAULT_MAX_BACKOFF)?;
        if max_backoff < backoff {
            return Err(error_at("max_backoff", "must not be shorter than backoff".into()));
        }
        let max_attempts = max_attempts.unwrap_or(Retry::DEFAULT_MAX_ATTEMPTS);
        if !(1..=100).contains(&max_attempts) {
            return Err(error_at("max_attempts", "must be from 1 to 100".into()));
        }
        Ok(Retry { max_attempts, backoff, max_backoff })
    }

    fn schedule_trigger(
        &self,
        index: usize,
        raw: RawScheduleTrigger,
        components: &BTreeMap<String, ComponentConfig>,
    ) -> Result<ScheduleTriggerConfig, ManifestError> {
        let key = |field: &str| format!("trigger.schedule[{index}].{field}");
        if !components.contains_key(&raw.component) {
            return Err(self.error(key("component"), format!("no [component.{}] is declared", raw.component)));
        }
        let parser = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .year(croner::parser::Year::Disallowed)
            .build();
        let schedule = parser.parse(&raw.cron).map_err(|e| {
            self.error(
                key("cron"),
                format!("{:?} is not a cron pattern of five fields (minute hour day month weekday), or six with seconds first: {e}", raw.cron),
            )
        })?;
        let time_zone = match raw.time_zone.as_deref() {
            None => chrono_tz::UTC,
            Some(name) => name.parse().map_err(|_| {
                self.error(key("time_zone"), format!("{name:?} is not an IANA time zone such as \"Europe/Oslo\""))
            })?,
        };
        if !is_event_type(&raw.event) {
            return Err(self.error(
                key("event"),
                format!("{:?} is not an event type such as \"report.daily-rollup.v1\" (lowercase dotted words)", raw.event),
            ));
        }
        let trigger = ScheduleTriggerConfig { index, component: raw.component, cron: raw.cron, schedule, time_zone, event: raw.event };
        if trigger.next_tick(chrono::Utc::now()).is_none() {
            return Err(self.error(key("cron"), format!("{:?} never matches a time", trigger.cron)));
        }
        Ok(trigger)
    }
}

/// An AMQP topic pattern over event types: dotted words, `*` and `#` as whole words.
fn is_event_pattern(pattern: &str) -> bool {
    let word = |w: &str| {
        w == "*" || w == "#" || (!w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'))
    };
    !pattern.is_empty() && pattern.split('.').all(word)
}

/// Component ids become schema, role and key prefixes, so they are kept short and plain.
fn is_component_id(id: &str) -> bool {
    id.len() <= 48
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && !id.contains("--")
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_event_type(event_type: &str) -> bool {
    let word = |w: &str| {
        !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    };
    event_type.contains('.') && event_type.split('.').all(word)
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
