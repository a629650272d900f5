//! `joule up`: load the manifest, start the runtime, and serve HTTP until a signal.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use joule_admin::{Access, AdminApi};
use joule_runtime::{Manifest, Runtime};
use joule_trigger_amqp::AmqpTrigger;
use joule_trigger_http::{HttpTrigger, RateLimits};
use joule_trigger_ocpp::OcppTrigger;
use joule_trigger_timers::TimerTrigger;
use tokio::sync::watch;

use crate::http_args::HttpArgs;
use crate::identity_args::IdentityArgs;
use crate::ocpp_args::OcppArgs;
use crate::runtime_args::RuntimeArgs;

#[derive(clap::Args)]
pub struct UpArgs {
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Address to serve HTTP on.
    #[arg(long, default_value = "127.0.0.1:3000", env = "JOULE_LISTEN")]
    listen: SocketAddr,
    /// Run each component's build command first.
    #[arg(long)]
    build: bool,
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    identity: IdentityArgs,
    #[command(flatten)]
    ocpp: OcppArgs,
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

pub fn run(args: UpArgs) -> anyhow::Result<()> {
    let manifest = Manifest::load(&args.runtime.location.manifest)?;
    if args.build {
        crate::build::build(&manifest)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(args, manifest))
}

async fn serve(args: UpArgs, manifest: Manifest) -> anyhow::Result<()> {
    let options = args.runtime.options();
    let access = Access::choose(args.admin_token.clone(), args.admin_no_auth, args.admin_listen)?;
    let settings = args.http.settings()?;
    let ocpp_settings = args.ocpp.settings()?;
    let verifier = Arc::new(args.identity.verifier(&options.state_dir).await?);
    let runtime = Arc::new(Runtime::start(manifest, options).await?);
    let redis = args.runtime.redis_url.as_deref().filter(|url| !url.trim().is_empty());
    let limits = RateLimits::new(runtime.manifest(), redis.map(|url| (url, args.runtime.redis_prefix.as_str()))).await?;
    // Charge points connect on the public listener: their paths go to the OCPP trigger.
    let ocpp = OcppTrigger::new(runtime.clone(), ocpp_settings)?;
    let http = HttpTrigger::new(runtime.clone(), verifier, limits, settings)?.with_upgrades(ocpp.upgrades());
    let amqp = AmqpTrigger::new(runtime.clone(), args.http.shutdown_grace)?;
    // Before anything can publish: the relay and the first requests.
    amqp.declare().await?;
    let timers = TimerTrigger::new(runtime.clone(), args.http.shutdown_grace);
    timers.keep_schedules().await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let admin_listener = tokio::net::TcpListener::bind(args.admin_listen)
        .await
        .with_context(|| format!("failed to listen on {} (--admin-listen)", args.admin_listen))?;
    // Both addresses are logged even when a port was chosen by the system (`:0`), so whoever
    // started the host can find it.
    tracing::info!(address = %format!("http://{}", listener.local_addr()?), "serving");
    tracing::info!(address = %format!("http://{}", admin_listener.local_addr()?), "admin API");
    if let Access::Disabled = access {
        tracing::warn!("the admin API is off: set JOULE_ADMIN_TOKEN to deploy and roll back");
    }

    let (stop_triggers, triggers_stopped) = watch::channel(false);
    runtime.start_background(!args.no_relay);
    tokio::spawn(crate::heap_trim::run(stopped(triggers_stopped.clone())));
    let admin = AdminApi::new(runtime.clone(), access);
    let admin = tokio::spawn(admin.serve(admin_listener, stopped(triggers_stopped.clone())));
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_triggers.send(true);
    });
    let (served, consumed, (), ()) = tokio::join!(
        http.serve(listener, stopped(triggers_stopped.clone())),
        amqp.run(stopped(triggers_stopped.clone())),
        timers.run(stopped(triggers_stopped.clone())),
        ocpp.run(stopped(triggers_stopped)),
    );
    // The runtime's background work stops last, so events committed by requests that were
    // finishing still leave.
    runtime.shutdown().await;
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
