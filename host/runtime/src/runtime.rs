//! The runtime: the engine, the backends and every loaded component of one application.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use crate::background::Background;
use crate::backends::{BackendSettings, Backends};
use crate::capabilities::callee::Callees;
use crate::capabilities::kv::{KeyValue, KeyValueBackend};
use crate::capabilities::variables::{self, Variables};
use crate::capabilities::{self, Capabilities, database, email, events, identity, ocpp, outbound_http, pricing, templates, timers};
use crate::component::LoadedComponent;
use crate::database::CommitSignals;
use crate::embedded::StateDir;
use crate::engine::{EngineSettings, JouleEngine};
use crate::error::RuntimeError;
use crate::events::{Broker, Outbox, QueueSpec, Relay};
use crate::loader::{self, LoadContext, RequiredExport};
use crate::manifest::{AmqpTriggerConfig, Manifest, OcppTriggerConfig};
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::timers::TimerStore;

/// How long a readiness probe waits on a backend.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where embedded state and the compile cache live.
    pub state_dir: PathBuf,
    pub compile_cache: bool,
    /// What the instance pool's idle slots may keep resident; see [`EngineSettings`].
    pub pool_resident_budget: u64,
    pub backends: BackendSettings,
}

pub struct Runtime {
    manifest: Manifest,
    engine: Arc<JouleEngine>,
    backends: Backends,
    registry: Arc<Registry>,
    metrics: Arc<Metrics>,
    /// Woken when events may be waiting in the outbox, or timers were scheduled.
    signals: CommitSignals,
    /// Made on first use: on Postgres it listens for other replicas' commits.
    outbox: OnceLock<Arc<dyn Outbox>>,
    /// Made on first use, as the outbox is.
    timers: OnceLock<Arc<dyn TimerStore>>,
    /// Every task the runtime runs besides invocations; see [`Runtime::shutdown`].
    background: Background,
    queue_namespace: String,
    _state: StateDir,
}

impl Runtime {
    /// Selects the backends and loads every component of the manifest.
    pub async fn start(manifest: Manifest, options: RuntimeOptions) -> Result<Self, RuntimeError> {
        capabilities::check_pure_callees(&manifest)?;
        let variables = variables::resolve(&manifest, |name| std::env::var(name).ok())?;
        let state = StateDir::open(&options.state_dir).map_err(|e| RuntimeError::Backend(format!("{e:#}")))?;
        let limits = manifest.components.values().map(|c| c.limits);
        let settings = EngineSettings {
            max_memory_bytes: limits.clone().map(|l| l.memory_bytes).max().unwrap_or_default().max(1 << 20),
            fuel: limits.clone().any(|l| l.fuel.is_some()),
            cache_dir: options.compile_cache.then(|| state.compile_cache()),
            pool_resident_budget: options.pool_resident_budget,
            ..EngineSettings::default()
        };
        let engine = Arc::new(JouleEngine::new(&settings).map_err(|e| RuntimeError::Backend(format!("{e:#}")))?);
        let background = Background::default();
        let backends = Backends::select(&options.backends, &state, &manifest.application.name, &background)
            .await
            .map_err(|e| RuntimeError::Backend(format!("{e:#}")))?;
        tracing::info!(
            database = backends.database.name(),
            kv = backends.kv.name(),
            broker = backends.broker.name(),
            mail = backends.mail.name(),
            "backends selected"
        );

        let signals = CommitSignals { outbox: Arc::new(Notify::new()), timers: Arc::new(Notify::new()) };
        let metrics = Arc::new(Metrics::default());
        let registry = Arc::new(Registry::new(engine.clone(), backends.versions.clone()));
        let capabilities = Capabilities {
            database: database::Database,
            kv: KeyValue { backend: backends.kv.clone(), application: manifest.application.name.clone() },
            events: events::Events,
            variables: Variables { values: variables },
            pricing: pricing::Pricing,
            templates: templates::Templates,
            outbound_http: outbound_http::OutboundHttp,
            timers: timers::Timers,
            identity: identity::Identity,
            ocpp: ocpp::Ocpp,
            email: email::Email { backend: backends.mail.clone(), metrics: metrics.clone() },
        };
        let callees: Weak<dyn Callees> = Arc::downgrade(&registry) as Weak<Registry>;
        let context = LoadContext {
            engine: engine.engine(),
            meters_fuel: engine.meters_fuel(),
            database: &backends.database,
            capabilities: &capabilities,
            signals: &signals,
            callees,
            metrics: &metrics,
        };
        let mut hosts = Vec::new();
        for (id, config) in &manifest.components {
            let handles_events = manifest.amqp_triggers.iter().any(|t| t.component == *id)
                || manifest.schedule_triggers.iter().any(|t| t.component == *id);
            let mut host_events: Vec<&str> = Vec::new();
            if manifest.ocpp_triggers.iter().any(|t| t.component == *id) {
                host_events.extend([OcppTriggerConfig::CONNECTED_EVENT, OcppTriggerConfig::DISCONNECTED_EVENT]);
            }
            // Its calls travel as events through its outbox.
            if config.grants.ocpp {
                host_events.push(ocpp::CALL_EVENT);
            }
            let host = loader::open(&context, config, handles_events, &host_events).await?;
            hosts.push((host, required_exports(&manifest, id)));
        }
        registry.start(hosts).await?;
        let queue_namespace = options.backends.queue_namespace.clone();
        Ok(Self {
            manifest,
            engine,
            backends,
            registry,
            metrics,
            signals,
            outbox: OnceLock::new(),
            timers: OnceLock::new(),
            background,
            queue_namespace,
            _state: state,
        })
    }

    pub fn broker(&self) -> &Arc<dyn Broker> {
        &self.backends.broker
    }

    /// Starts the background work: following the versions other replicas deploy, and, when
    /// `relay` is set, relaying committed events from the outbox to the broker.
    pub fn start_background(&self, relay: bool) {
        if relay {
            let relay = Relay::new(self.outbox().clone(), self.backends.broker.clone(), self.signals.outbox.clone());
            self.background.spawn("relay", |shutdown| relay.run(shutdown));
        }
        let registry = self.registry.clone();
        self.background.spawn_cancellable("registry follower", async move { registry.follow().await });
    }

    /// Stops the background work and waits for it: the relay sends what is waiting, for a few
    /// seconds at most, and every other task stops at once. Call it after the triggers have
    /// stopped, so events their last invocations committed still leave.
    pub async fn shutdown(&self) {
        self.background.shutdown().await;
    }

    fn outbox(&self) -> &Arc<dyn Outbox> {
        self.outbox.get_or_init(|| self.backends.database.outbox(self.signals.outbox.clone(), &self.background))
    }

    /// Every component's timers, and what wakes whoever fires them: a local commit that
    /// scheduled one, or, on Postgres, another replica's.
    pub fn timers(&self) -> (&Arc<dyn TimerStore>, &Arc<Notify>) {
        let store = self.timers.get_or_init(|| self.backends.database.timers(self.signals.timers.clone(), &self.background));
        (store, &self.signals.timers)
    }

    /// The queue a queue-triggered component consumes: `<namespace>.<application>.<component>`,
    /// `joule.<application>.<component>` by default.
    pub fn queue(&self, trigger: &AmqpTriggerConfig) -> QueueSpec {
        QueueSpec {
            name: format!("{}.{}.{}", self.queue_namespace, self.manifest.application.name, trigger.component),
            patterns: trigger.events.clone(),
            prefetch: trigger.prefetch,
            retry_delays: (1..trigger.retry.max_attempts).map(|attempt| trigger.retry.retry_delay(attempt)).collect(),
            handover: None,
        }
    }

    /// A queue of the host's own, `<namespace>.<application>.<name>`.
    pub fn host_queue_name(&self, name: &str) -> String {
        format!("{}.{}.{name}", self.queue_namespace, self.manifest.application.name)
    }

    /// The key-value store, which the host also keeps its own records in.
    pub fn key_value(&self) -> &Arc<dyn KeyValueBackend> {
        &self.backends.kv
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn engine(&self) -> &JouleEngine {
        &self.engine
    }

    /// The version of a component that new invocations should use.
    pub fn component(&self, id: &str) -> Option<Arc<LoadedComponent>> {
        self.registry.get(id)
    }

    /// The component registry: deploys, rollbacks and the versions stored.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The metrics in the OpenMetrics text format, with each component's active version.
    /// The outbox backlog is counted now; if the database does not answer, the last count stays.
    pub async fn encode_metrics(&self) -> Result<String, std::fmt::Error> {
        match tokio::time::timeout(READY_TIMEOUT, self.outbox().backlog()).await {
            Ok(Ok(events)) => self.metrics.outbox_backlog(events),
            Ok(Err(e)) => tracing::warn!(error = %format!("{e:#}"), "failed to count the outbox backlog"),
            Err(_) => tracing::warn!(timeout = ?READY_TIMEOUT, "counting the outbox backlog took too long"),
        }
        match tokio::time::timeout(READY_TIMEOUT, self.timers().0.pending()).await {
            Ok(Ok(timers)) => self.metrics.timers_pending(timers),
            Ok(Err(e)) => tracing::warn!(error = %format!("{e:#}"), "failed to count the pending timers"),
            Err(_) => tracing::warn!(timeout = ?READY_TIMEOUT, "counting the pending timers took too long"),
        }
        self.metrics.pool_idle_resident(self.engine.pool_idle_resident_bytes());
        for id in self.registry.ids() {
            if let Some(component) = self.registry.get(&id) {
                self.metrics.active_version(&id, component.version);
            }
        }
        self.metrics.encode()
    }

    /// Whether every backend answers; the error says which one does not.
    pub async fn check_ready(&self) -> Result<(), String> {
        let ping = |name: &'static str, result: Result<anyhow::Result<()>, _>| match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("the {name} backend failed: {e:#}")),
            Err(_) => Err(format!("the {name} backend did not answer within {READY_TIMEOUT:?}")),
        };
        ping(self.backends.database.name(), tokio::time::timeout(READY_TIMEOUT, self.backends.database.ping()).await)?;
        ping(self.backends.kv.name(), tokio::time::timeout(READY_TIMEOUT, self.backends.kv.ping()).await)?;
        ping(self.backends.broker.name(), tokio::time::timeout(READY_TIMEOUT, self.backends.broker.ping()).await)?;
        Ok(())
    }
}

/// The exports a version of `id` must have for the manifest's triggers and callers.
fn required_exports(manifest: &Manifest, id: &str) -> Vec<RequiredExport> {
    let mut required: Vec<RequiredExport> = Vec::new();
    let mut need = |export: &'static str, needed_by: String| {
        if !required.iter().any(|r| r.export == export) {
            required.push(RequiredExport { export, needed_by });
        }
    };
    if manifest.http_triggers.iter().any(|t| t.component == id) {
        need(crate::HTTP_HANDLER_EXPORT, "its HTTP route needs".into());
    }
    if manifest.amqp_triggers.iter().any(|t| t.component == id) {
        need(crate::EVENT_HANDLER_EXPORT, "its queue trigger needs".into());
    }
    if manifest.component(id).is_some_and(|c| c.grants.timers.is_some()) {
        need(crate::EVENT_HANDLER_EXPORT, "its timers need".into());
    }
    if manifest.component(id).is_some_and(|c| c.grants.ocpp) {
        need(crate::EVENT_HANDLER_EXPORT, "the results of its OCPP calls need".into());
    }
    if manifest.schedule_triggers.iter().any(|t| t.component == id) {
        need(crate::EVENT_HANDLER_EXPORT, "its schedule trigger needs".into());
    }
    if let Some(trigger) = manifest.ocpp_triggers.iter().find(|t| t.components().any(|c| c == id)) {
        need(crate::OCPP_HANDLER_EXPORT, format!("its OCPP trigger ({}) needs", trigger.key("component")));
    }
    for (caller, config) in &manifest.components {
        if config.grants.pricing.as_ref().is_some_and(|p| p.rules.contains(id)) {
            need(crate::PRICING_RULE_EXPORT, format!("component {caller:?} needs to run it as a pricing rule"));
        }
        if config.grants.templates.as_ref().is_some_and(|t| t.names.contains(id)) {
            need(crate::TEMPLATE_EXPORT, format!("component {caller:?} needs to render it as a template"));
        }
    }
    required
}
