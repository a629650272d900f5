//! How charge point connections are kept: pings, the idle timeout, the connection cap.

use std::time::Duration;

use joule_trigger_ocpp::OcppSettings;

#[derive(clap::Args)]
pub struct OcppArgs {
    /// How often a charge point is pinged, to find a dead connection.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, env = "JOULE_OCPP_PING_INTERVAL")]
    ocpp_ping_interval: Duration,
    /// A charge point connection with nothing heard (message or pong) for this long is closed.
    #[arg(long, default_value = "90s", value_parser = humantime::parse_duration, env = "JOULE_OCPP_IDLE_TIMEOUT")]
    ocpp_idle_timeout: Duration,
    /// Charge points connected at once; more are answered 503 at the handshake.
    #[arg(long, default_value_t = 10_000, env = "JOULE_OCPP_MAX_CONNECTIONS")]
    ocpp_max_connections: usize,
    /// The largest message a charge point may send, such as "1MiB".
    #[arg(long, default_value = "1MiB", env = "JOULE_OCPP_MAX_MESSAGE")]
    ocpp_max_message: bytesize::ByteSize,
    /// How long a charge point has to answer a CALL the platform sends it.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, env = "JOULE_OCPP_CALL_TIMEOUT")]
    ocpp_call_timeout: Duration,
}

impl OcppArgs {
    pub fn settings(&self) -> anyhow::Result<OcppSettings> {
        anyhow::ensure!(!self.ocpp_ping_interval.is_zero(), "--ocpp-ping-interval must be longer than 0s");
        anyhow::ensure!(
            self.ocpp_idle_timeout > self.ocpp_ping_interval,
            "--ocpp-idle-timeout ({}) must be longer than --ocpp-ping-interval ({}), or live charge points are cut off",
            humantime::format_duration(self.ocpp_idle_timeout),
            humantime::format_duration(self.ocpp_ping_interval)
        );
        anyhow::ensure!(self.ocpp_max_connections > 0, "--ocpp-max-connections must be at least 1");
        let max_message_bytes = usize::try_from(self.ocpp_max_message.as_u64())?;
        anyhow::ensure!(max_message_bytes >= 1024, "--ocpp-max-message must be at least 1KiB");
        anyhow::ensure!(!self.ocpp_call_timeout.is_zero(), "--ocpp-call-timeout must be longer than 0s");
        Ok(OcppSettings {
            ping_interval: self.ocpp_ping_interval,
            idle_timeout: self.ocpp_idle_timeout,
            max_connections: self.ocpp_max_connections,
            max_message_bytes,
            call_timeout: self.ocpp_call_timeout,
        })
    }
}
