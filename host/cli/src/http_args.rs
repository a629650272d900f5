//! The public listener's limits: request bodies, timeouts and the connection cap.

use std::time::Duration;

use anyhow::Context as _;
use joule_trigger_http::{ConnectionLimits, HttpSettings};

/// Descriptors kept back from the connection cap, at least, for database pools, the broker,
/// the admin listener and files.
const RESERVED_DESCRIPTORS: u64 = 256;

#[derive(clap::Args)]
pub struct HttpArgs {
    /// Largest request body accepted, such as "1MiB".
    #[arg(long, default_value = "1MiB", env = "JOULE_MAX_REQUEST_BODY")]
    max_request_body: bytesize::ByteSize,
    /// How long a request body may take to arrive; past it, 408.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, env = "JOULE_BODY_TIMEOUT")]
    body_timeout: Duration,
    /// How long a new connection may take to send its first request's headers, and any
    /// HTTP/1 request its headers.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, env = "JOULE_HEADER_TIMEOUT")]
    header_timeout: Duration,
    /// How long a connection may stay open with no request in flight.
    #[arg(long, default_value = "75s", value_parser = humantime::parse_duration, env = "JOULE_IDLE_TIMEOUT")]
    idle_timeout: Duration,
    /// Connections served at once; lowered to fit the process's file descriptor limit.
    #[arg(long, default_value_t = 10_000, env = "JOULE_MAX_CONNECTIONS")]
    max_connections: usize,
    /// How long requests in flight may take to finish on shutdown.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, env = "JOULE_SHUTDOWN_GRACE")]
    pub shutdown_grace: Duration,
}

impl HttpArgs {
    pub fn settings(&self) -> anyhow::Result<HttpSettings> {
        let max_request_body =
            usize::try_from(self.max_request_body.as_u64()).context("--max-request-body is too large")?;
        for (flag, value) in
            [("--body-timeout", self.body_timeout), ("--header-timeout", self.header_timeout), ("--idle-timeout", self.idle_timeout)]
        {
            anyhow::ensure!(!value.is_zero(), "{flag} must be longer than 0s");
        }
        anyhow::ensure!(self.max_connections > 0, "--max-connections must be at least 1");
        Ok(HttpSettings {
            max_request_body,
            body_timeout: self.body_timeout,
            shutdown_grace: self.shutdown_grace,
            connections: ConnectionLimits {
                max_connections: fit_descriptors(self.max_connections),
                header_timeout: self.header_timeout,
                idle_timeout: self.idle_timeout,
            },
        })
    }
}

/// Raises the soft file descriptor limit to the hard one, and lowers `wanted` so that a full
/// listener leaves a quarter of the descriptors (at least [`RESERVED_DESCRIPTORS`]) free.
fn fit_descriptors(wanted: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "failed to read the file descriptor limit; the connection cap is not checked");
            return wanted;
        }
    };
    let fits = usize::try_from(limit.saturating_sub((limit / 4).max(RESERVED_DESCRIPTORS))).unwrap_or(usize::MAX).max(1);
    if wanted > fits {
        tracing::warn!(wanted, limit, max_connections = fits, "the file descriptor limit lowers the connection cap");
    }
    wanted.min(fits)
}
