//! A real webhook receiver for the black-box tests: `tests/webhooks/receiver.py`, an HTTP
//! server that verifies each delivery's signature with the Python `standardwebhooks`
//! package and reports every request it gets (see the script for what each report holds).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::charge_point::python;
use crate::repo_root;

pub struct WebhookReceiver {
    _child: Child,
    port: u16,
    secret_file: PathBuf,
    _dir: tempfile::TempDir,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl WebhookReceiver {
    /// Starts a receiver that answers 500 to the first `fail_first` requests of each
    /// webhook id, and 204 after.
    pub async fn start(fail_first: u32) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let secret_file = dir.path().join("secret");
        let mut child = Command::new(python())
            .arg(repo_root().join("tests/webhooks/receiver.py"))
            .arg("--secret-file")
            .arg(&secret_file)
            .arg("--fail-first")
            .arg(fail_first.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the webhook receiver");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next_line().await.expect("read the receiver").expect("the receiver says where it listens");
        let port = serde_json::from_str::<Value>(&first).ok().and_then(|v| v["listening"].as_u64()).and_then(|p| u16::try_from(p).ok()).expect("its port");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let collected = requests.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let request = serde_json::from_str(&line).unwrap_or_else(|_| Value::String(line));
                collected.lock().expect("requests").push(request);
            }
        });
        Self { _child: child, port, secret_file, _dir: dir, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The secret the endpoint was given, for the receiver to verify signatures with.
    pub fn trust(&self, secret: &str) {
        std::fs::write(&self.secret_file, secret).expect("write the secret");
    }

    /// Every request so far, in the order they came.
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().expect("requests").clone()
    }
}
