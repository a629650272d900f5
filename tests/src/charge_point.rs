//! Real OCPP charge points for the black-box tests: `tests/ocpp/charge_point.py`, built on
//! the Python `ocpp` package, which validates every message it sends and receives against
//! the official OCPP JSON schemas.
//!
//! The script prints one JSON object per step; the first is always the connection:
//! `{"step": "connect", "ok": true, "subprotocol": "ocpp1.6"}`, or `"ok": false` with the
//! handshake's HTTP `status`, or with the `subprotocol` the server picked instead. Then one
//! per OCPP call: `{"step": "Heartbeat", "ok": true, "response": {...}}`, or `"ok": false`
//! with `error.code` the CALLERROR's code, "ValidationFailed" (the CALLRESULT broke the
//! schema; `response` holds it), "Timeout" or "ConnectionClosed".
//!
//! Its Python comes from `JOULE_TEST_PYTHON`, else the venv `target/ocpp-venv` that
//! `scripts/test` makes from `tests/ocpp/requirements.txt`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::repo_root;

/// The `--protocol` values: OCPP 1.6J (subprotocol `ocpp1.6`) and 2.0.1 (`ocpp2.0.1`).
pub const OCPP16: &str = "1.6";
pub const OCPP201: &str = "2.0.1";
pub const PROTOCOLS: [&str; 2] = [OCPP16, OCPP201];

/// How long one run of the script may take, whatever its scenario.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// One charge point: its id (also the Basic auth user name), password and protocol.
#[derive(Debug, Clone)]
pub struct ChargePoint {
    pub id: String,
    /// None sends no Authorization header at all.
    pub password: Option<String>,
    /// [`OCPP16`] or [`OCPP201`].
    pub protocol: &'static str,
}

impl ChargePoint {
    pub fn new(id: &str, password: &str, protocol: &'static str) -> Self {
        Self { id: id.to_string(), password: Some(password.to_string()), protocol }
    }

    /// The script's command line for `scenario` (basic, fault, hold) against the host at
    /// `base_url` (`http://127.0.0.1:PORT`), with `extra_args` such as `["--hold", "10"]`.
    pub fn command(&self, base_url: &str, scenario: &str, extra_args: &[&str]) -> Command {
        let mut command = Command::new(python());
        command
            .arg(repo_root().join("tests/ocpp/charge_point.py"))
            .arg("--url")
            .arg(ocpp_url(base_url))
            .arg("--id")
            .arg(&self.id)
            .arg("--protocol")
            .arg(self.protocol)
            .arg("--scenario")
            .arg(scenario);
        if let Some(password) = &self.password {
            command.arg("--password").arg(password);
        }
        command.args(extra_args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        command
    }

    /// Starts the scenario and returns at once (killed when dropped); [`finish`] collects
    /// its steps. For connections that must overlap, or outlive a host's swap.
    pub fn spawn(&self, base_url: &str, scenario: &str, extra_args: &[&str]) -> Child {
        self.command(base_url, scenario, extra_args)
            .spawn()
            .unwrap_or_else(|e| panic!("start the charge point script with {}: {e}", python().display()))
    }

    /// Runs the scenario to its end and returns its steps, the `connect` step first.
    pub async fn run(&self, base_url: &str, scenario: &str) -> Vec<Step> {
        self.run_with(base_url, scenario, &[]).await
    }

    /// [`ChargePoint::run`] with extra arguments, such as `["--timeout", "3"]`.
    pub async fn run_with(&self, base_url: &str, scenario: &str, extra_args: &[&str]) -> Vec<Step> {
        finish(self.spawn(base_url, scenario, extra_args)).await
    }
}

/// Waits for a spawned charge point to end and returns its steps. Panics, with what the
/// script wrote on stderr, when it crashed or printed something that is not a step.
pub async fn finish(child: Child) -> Vec<Step> {
    let output = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("the charge point did not finish within {RUN_TIMEOUT:?}"))
        .expect("wait for the charge point script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the charge point script failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status);
    if !stderr.trim().is_empty() {
        // Captured by the test harness, and shown when the test fails.
        eprintln!("charge point stderr:\n{stderr}");
    }
    stdout
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            Step::parse(line)
                .unwrap_or_else(|| panic!("the charge point printed a line that is no step: {line}\nstderr:\n{stderr}"))
        })
        .collect()
}

/// One line of the script's output.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// "connect", or the OCPP action ("BootNotification", "Authorize"...).
    pub step: String,
    pub ok: bool,
    /// The CALLRESULT's payload as the CSMS sent it; Null when there was none.
    pub response: Value,
    /// `{"code", "description", "details", "exception"}` when the step failed.
    pub error: Option<Value>,
    /// The HTTP status of a refused handshake (connect step).
    pub status: Option<u16>,
    /// The subprotocol the server picked (connect step).
    pub subprotocol: Option<String>,
    /// The whole line.
    pub raw: Value,
}

impl Step {
    fn parse(line: &str) -> Option<Self> {
        let raw: Value = serde_json::from_str(line).ok()?;
        Some(Self {
            step: raw["step"].as_str()?.to_string(),
            ok: raw["ok"].as_bool()?,
            response: raw.get("response").cloned().unwrap_or(Value::Null),
            error: raw.get("error").cloned(),
            status: raw.get("status").and_then(Value::as_u64).and_then(|status| u16::try_from(status).ok()),
            subprotocol: raw.get("subprotocol").and_then(Value::as_str).map(str::to_owned),
            raw,
        })
    }

    /// The error code of a failed step: a CALLERROR's code, "ValidationFailed", "Timeout",
    /// "ConnectionClosed"...
    pub fn error_code(&self) -> Option<&str> {
        self.error.as_ref()?.get("code")?.as_str()
    }
}

/// The Python with the pinned packages: `JOULE_TEST_PYTHON`, else `target/ocpp-venv`.
pub fn python() -> PathBuf {
    let python = match std::env::var_os("JOULE_TEST_PYTHON") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => repo_root().join("target/ocpp-venv/bin/python"),
    };
    assert!(
        python.exists(),
        "no Python for the OCPP charge points at {}: run scripts/test, which makes the venv target/ocpp-venv \
         (or set JOULE_TEST_PYTHON to a python with tests/ocpp/requirements.txt installed)",
        python.display()
    );
    python
}

/// `http://HOST:PORT` -> `ws://HOST:PORT/ocpp` (and https -> wss).
pub fn ocpp_url(base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_string()
    };
    format!("{base}/ocpp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_url_of_the_host() {
        assert_eq!(ocpp_url("http://127.0.0.1:8080"), "ws://127.0.0.1:8080/ocpp");
        assert_eq!(ocpp_url("https://joule.test/"), "wss://joule.test/ocpp");
    }

    #[test]
    fn steps_parse() {
        let step = Step::parse(r#"{"step":"connect","ok":false,"status":401}"#).unwrap();
        assert_eq!((step.step.as_str(), step.ok, step.status), ("connect", false, Some(401)));
        let step = Step::parse(r#"{"step":"DataTransfer","ok":false,"error":{"code":"InternalError"}}"#).unwrap();
        assert_eq!(step.error_code(), Some("InternalError"));
        assert_eq!(step.response, Value::Null);
        assert!(Step::parse("not json").is_none());
    }
}
