//! A real SMTP server for the black-box tests: `tests/smtp/server.py`, built on the Python
//! `aiosmtpd` package. It reports every message it receives, refuses, or bounces (see the
//! script for what each report holds); a host reaches it with [`SmtpServer::url`] as `SMTP_URL`.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::charge_point::python;
use crate::repo_root;

/// How long the script may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SmtpServer {
    _child: Child,
    port: u16,
    reports: Arc<Mutex<Vec<Value>>>,
}

impl SmtpServer {
    /// Starts a server that accepts every message.
    pub async fn start() -> Self {
        Self::refusing_first(0).await
    }

    /// Starts a server that answers 451 ("try again later") to the first `count` messages.
    pub async fn refusing_first(count: u32) -> Self {
        let mut child = Command::new(python())
            .arg(repo_root().join("tests/smtp/server.py"))
            .arg("--refuse-first")
            .arg(count.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start the SMTP server with {}: {e}", python().display()));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = tokio::time::timeout(START_TIMEOUT, lines.next_line())
            .await
            .expect("the SMTP server says where it listens in time")
            .expect("read the SMTP server")
            .expect("the SMTP server says where it listens (is aiosmtpd installed? see tests/ocpp/requirements.txt)");
        let port = serde_json::from_str::<Value>(&first)
            .ok()
            .and_then(|v| v["listening"].as_u64())
            .and_then(|port| u16::try_from(port).ok())
            .unwrap_or_else(|| panic!("the SMTP server's first line is no port: {first}"));
        let reports = Arc::new(Mutex::new(Vec::new()));
        let collected = reports.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let report = serde_json::from_str(&line).unwrap_or(Value::String(line));
                collected.lock().expect("reports").push(report);
            }
        });
        Self { _child: child, port, reports }
    }

    /// The `SMTP_URL` of this server: plain SMTP, no authentication.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every report so far, in the order they came.
    pub fn reports(&self) -> Vec<Value> {
        self.reports.lock().expect("reports").clone()
    }

    /// The messages received so far.
    pub fn received(&self) -> Vec<Value> {
        self.reports().into_iter().filter(|r| r["event"] == "received").collect()
    }
}
