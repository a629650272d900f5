//! Outbound HTTP is granted per component by `allowed_outbound_hosts` and checked at the
//! call: a component without the grant loads (with a warning) and its requests are refused.
//! The receiver is Python's own `http.server`; the componentize-js component, which imports
//! `wasi:http/outgoing-handler` as its toolchain always does, is built with npm.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use joule_tests::{Joule, client, read};

/// `python3 -m http.server` on a free port, serving a directory with one file.
struct Receiver {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Receiver {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("greeting.txt"), "hello from the receiver").unwrap();
        // Port 0, and the port read from its first line: a port picked here could be taken
        // before the server binds it.
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run python3 -m http.server");
        let stdout = child.stdout.take().expect("piped stdout");
        let port = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).expect("read http.server's first line");
            // "Serving HTTP on 127.0.0.1 port 41235 (http://127.0.0.1:41235/) ..."
            line.split(" port ").nth(1).and_then(|rest| rest.split_whitespace().next()?.parse::<u16>().ok())
        });
        let port = tokio::time::timeout(Duration::from_secs(20), port)
            .await
            .expect("http.server did not start in 20 s")
            .unwrap()
            .expect("http.server's first line names its port");
        Self { child, port, _dir: dir }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn outbound_requests_follow_the_grant_at_the_call() {
    let receiver = Receiver::start().await;
    let joule = Joule::with("tests/manifests/outbound.toml").ready().await;
    let target = format!("http://127.0.0.1:{}/greeting.txt", receiver.port);
    let http = client();

    // `:` and `/` may stand in a query unescaped, so the guest reads the URL as it is.
    let fetch = |prefix: &str| http.get(joule.url(&format!("/{prefix}/fetch?url={target}"))).send();
    let (status, body) = read(fetch("allowed").await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], 200, "{body}");
    assert_eq!(body["body"], "hello from the receiver");

    // The component without the grant loaded, and its request is refused where it is made.
    let (status, body) = read(fetch("denied").await.unwrap()).await;
    assert_eq!(status, 502, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.to_lowercase().contains("denied"), "the guest learns why: {body}");

    // A JavaScript component that never calls out serves without any outbound grant.
    let response = http.get(joule.url("/js")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "hello from js");

    let logs = joule.logs();
    for component in ["fetch-denied", "js-hello"] {
        let warned = logs.lines().any(|line| line.contains(component) && line.contains("has no allowed_outbound_hosts"));
        assert!(warned, "a warning names {component} and the grant it lacks:\n{logs}");
    }
    assert!(!logs.lines().any(|line| line.contains("fetch-allowed") && line.contains("allowed_outbound_hosts")), "{logs}");
}
