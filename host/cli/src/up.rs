//! `joule up`: load the manifest, start the runtime, and serve HTTP until a signal.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use joule_admin::{Access, AdminApi};
use joule_runtime::capabilities::database::postgres::PostgresSettings;
use joule_runtime::{BackendSettings, Manifest, Runtime, RuntimeOptions};
use joule_trigger_amqp::AmqpTrigger;
use joule_trigger_http::{HttpSettings, HttpTrigger};
use tokio::sync::watch;

#[derive(clap::Args)]
pub struct UpArgs {
    /// The application manifest.
    #[arg(long, short = 'f', default_value = "spin.toml", env = "JOULE_MANIFEST")]
    manifest: PathBuf,
    /// Address to serve HTTP on.
    #[arg(long, default_value = "127.0.0.1:3000", env = "JOULE_LISTEN")]
    listen: SocketAddr,
    /// Run each component's build command first.
    #[arg(long)]
    build: bool,
    /// Where embedded state and compiled components are kept (default: `.joule` beside the manifest).
    #[arg(long, env = "JOULE_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// Largest request body accepted, such as "1MiB".
    #[arg(long, default_value = "1MiB", env = "JOULE_MAX_REQUEST_BODY")]
    max_request_body: bytesize::ByteSize,
    /// How long requests in flight may take to finish on shutdown.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, env = "JOULE_SHUTDOWN_GRACE")]
    shutdown_grace: Duration,
    /// Compile every component from scratch instead of using the on-disk cache.
    #[arg(long)]
    no_compile_cache: bool,
    /// Postgres for the components' databases; without it, SQLite files in the state directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Redis for the key-value store; without it, the embedded store in the state directory.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Postgres connections each component's pool may open.
    #[arg(long, default_value_t = 10, env = "JOULE_DATABASE_POOL_SIZE")]
    database_pool_size: u32,
    /// Secret the component roles' Postgres passwords are derived from (default: DATABASE_URL's password).
    #[arg(long, env = "JOULE_DATABASE_ROLE_SECRET", hide_env_values = true)]
    database_role_secret: Option<String>,
    /// First part of every Redis key, so several deployments can share one Redis.
    #[arg(long, default_value = "joule", env = "JOULE_REDIS_PREFIX")]
    redis_prefix: String,
    /// RabbitMQ for events; without it, the embedded broker in the state directory.
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    amqp_url: Option<String>,
    /// The topic exchange events are published to.
    #[arg(long, default_value = joule_runtime::DEFAULT_EVENTS_EXCHANGE, env = "JOULE_EVENTS_EXCHANGE")]
    events_exchange: String,
    /// The first part of every queue name, so several deployments can share one broker.
    #[arg(long, default_value = joule_runtime::DEFAULT_QUEUE_NAMESPACE, env = "JOULE_QUEUE_NAMESPACE")]
    queue_namespace: String,
    /// Address of the admin listener: the component registry's API and Prometheus /metrics.
    #[arg(long, default_value = "127.0.0.1:3001", env = "JOULE_ADMIN_LISTEN")]
    admin_listen: SocketAddr,
    /// Bearer token the admin API requires; without it the API is off (/metrics still answers).
    #[arg(long, env = "JOULE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Serve the admin API without a token; allowed only on a loopback --admin-listen.
    #[arg(long)]
    admin_no_auth: bool,
    /// Do not relay the outbox to the broker from this process (another replica does).
    #[arg(long, env = "JOULE_NO_RELAY")]
    no_relay: bool,
}

/// An empty variable counts as unset.
fn set(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

pub fn run(args: UpArgs) -> anyhow::Result<()> {
    let manifest = Manifest::load(&args.manifest)?;
    if args.build {
        crate::build::build(&manifest)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(args, manifest))
}

async fn serve(args: UpArgs, manifest: Manifest) -> anyhow::Result<()> {
    let state_dir = args.state_dir.clone().unwrap_or_else(|| manifest.root.join(".joule"));
    let backends = BackendSettings {
        database_url: set(args.database_url),
        redis_url: set(args.redis_url),
        amqp_url: set(args.amqp_url),
        events_exchange: args.events_exchange,
        queue_namespace: args.queue_namespace,
        postgres: PostgresSettings { pool_size: args.database_pool_size, role_secret: set(args.database_role_secret) },
        redis_prefix: args.redis_prefix,
    };
    let options = RuntimeOptions { state_dir, compile_cache: !args.no_compile_cache, backends };
    let access = Access::choose(args.admin_token.clone(), args.admin_no_auth, args.admin_listen)?;
    let runtime = Arc::new(Runtime::start(manifest, options).await?);
    let settings = HttpSettings {
        max_request_body: usize::try_from(args.max_request_body.as_u64()).context("--max-request-body is too large")?,
        shutdown_grace: args.shutdown_grace,
    };
    let http = HttpTrigger::new(runtime.clone(), settings)?;
    let amqp = AmqpTrigger::new(runtime.clone(), args.shutdown_grace)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let admin_listener = tokio::net::TcpListener::bind(args.admin_listen)
        .await
        .with_context(|| format!("failed to listen on {} (--admin-listen)", args.admin_listen))?;
    tracing::info!(address = %format!("http://{}", listener.local_addr()?), "serving");
    match access {
        Access::Disabled => tracing::warn!("the admin API is off: set JOULE_ADMIN_TOKEN to deploy and roll back"),
        _ => tracing::info!(address = %format!("http://{}", admin_listener.local_addr()?), "admin API"),
    }

    let (stop_triggers, triggers_stopped) = watch::channel(false);
    let (stop_relay, relay_stopped) = watch::channel(false);
    let relay = (!args.no_relay).then(|| tokio::spawn(runtime.relay().run(stopped(relay_stopped))));
    let replicas = tokio::spawn(runtime.registry().clone().follow(stopped(triggers_stopped.clone())));
    let admin = AdminApi::new(runtime.clone(), access);
    let admin = tokio::spawn(admin.serve(admin_listener, stopped(triggers_stopped.clone())));
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_triggers.send(true);
    });
    let (served, consumed) =
        tokio::join!(http.serve(listener, stopped(triggers_stopped.clone())), amqp.run(stopped(triggers_stopped)));
    // The relay goes last, so events committed by requests that were finishing still leave.
    let _ = stop_relay.send(true);
    if let Some(relay) = relay {
        let _ = relay.await;
    }
    let _ = replicas.await;
    if let Ok(Err(e)) = admin.await {
        tracing::warn!(error = %e, "the admin listener failed");
    }
    served?;
    consumed
}

/// Completes once `signal` turns true.
async fn stopped(mut signal: watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await;
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("failed to listen for SIGTERM");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("received Ctrl-C"),
        _ = terminate.recv() => tracing::info!("received SIGTERM"),
    }
}
