//! Black-box test harness: builds and starts the real `joule` binary on a free port,
//! with the real components, and talks HTTP to it.
//!
//! The suite runs twice: on the embedded backends, and with `JOULE_TEST_DATABASE_URL` and
//! `JOULE_TEST_REDIS_URL` set, against Postgres and Redis; each host then gets a database
//! and a key prefix of its own (see [`State`]).

pub mod admin;
pub mod broker;
pub mod charge_point;
pub mod ev;
pub mod ocpp_socket;
pub mod oidc;
pub mod otlp;
pub mod smtp_server;
pub mod webhook_receiver;
mod proxy;
mod state;

pub use proxy::Proxy;
pub use state::{Services, State, real_backends};

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a host may take to become ready (first start compiles components).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the repository").to_path_buf()
}

/// The `joule` binary of the same build profile as this test, built on first use.
pub fn joule_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> -> target/<profile>
        let profile_dir = exe.parent().and_then(Path::parent).expect("test executable in target/<profile>/deps");
        let profile = profile_dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug").to_string();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        // The same targets `cargo test --workspace` builds, so the features agree and this
        // is a no-op after it; `-p joule` alone would rebuild shared dependencies.
        build.current_dir(repo_root()).args(["build", "--workspace", "--all-targets"]);
        // Nor the variables cargo set for this test process: build scripts that watch one of
        // them (ring watches CARGO_MANIFEST_DIR) would rerun, and everything above them rebuild.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("CARGO_PKG_")
                || ["CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"]
                    .contains(&name.as_ref())
            {
                build.env_remove(name.as_ref());
            }
        }
        match profile.as_str() {
            "debug" => {}
            "release" => {
                build.arg("--release");
            }
            other => {
                build.args(["--profile", other]);
            }
        }
        let status = build.status().expect("failed to run cargo build");
        assert!(status.success(), "building the workspace failed");
        profile_dir.join("joule")
    })
}

/// Runs `joule build` for a manifest once per test process.
fn build_components(manifest: &Path) {
    static BUILT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.get_or_insert_with(HashSet::new).insert(manifest.to_path_buf()) {
        return;
    }
    let output = Command::new(joule_binary()).arg("build").arg("-f").arg(manifest).output().expect("run joule build");
    assert!(
        output.status.success(),
        "joule build -f {} failed:\n{}",
        manifest.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Builds every test guest, for tests that point broken manifests at them.
pub fn build_guests() {
    build_components(&repo_root().join("tests/manifests/guests.toml"));
}

/// Builds the EV platform's components, for tests that point broken manifests at them.
pub fn build_platform() {
    build_components(&repo_root().join("spin.toml"));
}

/// Where the host logged that it listens (`serving` or `admin API`), once it has.
/// The host binds port 0 and reports the port the system gave it: a port picked here and
/// bound later could be taken in between by another test's host or client socket.
/// Both log formats are read, since some tests ask for JSON logs.
fn logged_address(log: &str, message: &str) -> Option<String> {
    let marker = format!(" {message} address=");
    log.lines().find_map(|line| match serde_json::from_str::<serde_json::Value>(line) {
        Ok(json) if json["fields"]["message"] == message => json["fields"]["address"].as_str().map(str::to_owned),
        Ok(_) => None,
        Err(_) => Some(line.split_once(&marker)?.1.split_whitespace().next()?.to_owned()),
    })
}

/// How to start a host.
pub struct Start<'a> {
    manifest: PathBuf,
    env: Vec<(String, String)>,
    args: Vec<String>,
    state: Option<&'a State>,
}

impl<'a> Start<'a> {
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Keeps state in `state`, so a second host can see what the first stored.
    pub fn state<'b>(self, state: &'b State) -> Start<'b>
    where
        'a: 'b,
    {
        Start { manifest: self.manifest, env: self.env, args: self.args, state: Some(state) }
    }

    /// The command line and environment of `joule up`, with its state.
    fn command(&self, state: &State) -> Command {
        let mut command = Command::new(joule_binary());
        command
            .arg("up")
            .arg("-f")
            .arg(&self.manifest)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--admin-listen")
            .arg("127.0.0.1:0")
            .arg("--state-dir")
            .arg(state.path().join("joule"))
            .args(&self.args)
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("AMQP_URL")
            .env_remove("SMTP_URL")
            .env_remove("JOULE_OIDC_ISSUER")
            .env_remove("JOULE_OIDC_AUDIENCE")
            .env_remove("JOULE_OIDC_ROLES_CLAIM")
            .envs(state.env())
            .env("JOULE_ADMIN_TOKEN", admin::ADMIN_TOKEN)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("JOULE_LOG_FORMAT", "text");
        command
    }

    /// Starts the host and waits until `/health/ready` answers 200.
    pub async fn ready(self) -> Joule {
        build_components(&self.manifest);
        let own_state = if self.state.is_none() { Some(State::new()) } else { None };
        let state = self.state.or(own_state.as_ref()).expect("a state");
        let temp = tempfile::tempdir().expect("temp dir");
        let log_path = temp.path().join("joule.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let child = self.command(state).stdout(Stdio::null()).stderr(log).spawn().expect("spawn joule");
        let mut joule = Joule {
            child,
            manifest: self.manifest.clone(),
            state_dir: state.path().join("joule"),
            base: String::new(),
            admin_base: String::new(),
            log_path,
            operator: OnceLock::new(),
            _temp: temp,
            _state: own_state,
        };
        joule.wait_ready().await;
        joule
    }

    /// Runs `joule up` expecting it to refuse to start; returns its exit status and stderr.
    /// Nothing is built first, since the manifest may be broken on purpose: see [`build_guests`].
    pub fn fails(self) -> (ExitStatus, String) {
        let own_state = if self.state.is_none() { Some(State::new()) } else { None };
        let state = self.state.or(own_state.as_ref()).expect("a state");
        let command = self.command(state);
        let Output { status, stderr, .. } = run_with_timeout(command, Duration::from_secs(120));
        (status, String::from_utf8_lossy(&stderr).into_owned())
    }
}

fn run_with_timeout(mut command: Command, timeout: Duration) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn joule");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > timeout {
            let _ = child.kill();
            panic!("joule did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("collect output")
}

/// A running `joule up`. It is killed when dropped.
pub struct Joule {
    child: Child,
    manifest: PathBuf,
    state_dir: PathBuf,
    base: String,
    admin_base: String,
    log_path: PathBuf,
    /// A client acting as [`OPERATOR`], made on first use.
    operator: OnceLock<reqwest::Client>,
    _temp: tempfile::TempDir,
    /// Declared last so the process is killed before its state is removed.
    _state: Option<State>,
}

impl Joule {
    /// Prepares to start a host with `manifest`, a path relative to the repository root.
    pub fn with(manifest: &str) -> Start<'static> {
        Start { manifest: repo_root().join(manifest), env: Vec::new(), args: Vec::new(), state: None }
    }

    /// The EV platform, from the repository's own `spin.toml`.
    pub async fn platform() -> Self {
        Self::with("spin.toml").ready().await
    }

    /// The test guests, from `tests/manifests/guests.toml`.
    pub async fn guests() -> Self {
        Self::with("tests/manifests/guests.toml").env("JOULE_VARIABLE_API_TOKEN", "s3cret").ready().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A token of this host's development issuer, from `joule token`.
    pub fn token(&self, subject: &str, roles: &[&str]) -> String {
        let output = self.token_command(subject, roles).output().expect("run joule token");
        assert!(output.status.success(), "joule token failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("a token").trim().to_string()
    }

    /// A client acting as the operator [`OPERATOR`], who may do anything in the EV API.
    pub fn operator(&self) -> reqwest::Client {
        self.operator.get_or_init(|| client_with_token(&self.token(OPERATOR, &["operator"]))).clone()
    }

    /// A client acting as the driver `subject`.
    pub fn driver(&self, subject: &str) -> reqwest::Client {
        client_with_token(&self.token(subject, &["driver"]))
    }

    /// `joule token` for this host's manifest and state, to run as a test needs.
    pub fn token_command(&self, subject: &str, roles: &[&str]) -> Command {
        let mut command = Command::new(joule_binary());
        command.arg("token").arg("-f").arg(&self.manifest).arg("--state-dir").arg(&self.state_dir);
        command.args(["--subject", subject]).env_remove("JOULE_OIDC_ISSUER").env_remove("JOULE_OIDC_AUDIENCE");
        for role in roles {
            command.args(["--role", role]);
        }
        command
    }

    /// Everything the host logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        let client = client();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!("joule exited ({status}) before it was ready:\n{}", self.logs());
            }
            if self.base.is_empty() || self.admin_base.is_empty() {
                let log = self.logs();
                if let (Some(base), Some(admin)) = (logged_address(&log, "serving"), logged_address(&log, "admin API")) {
                    (self.base, self.admin_base) = (base, admin);
                }
            } else if let Ok(response) = client.get(self.url("/health/ready")).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(started.elapsed() < READY_TIMEOUT, "joule was not ready in {READY_TIMEOUT:?}:\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the process with SIGKILL: no shutdown, no last relay.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill joule");
        let _ = self.child.wait();
    }

    /// Sends SIGTERM, as Kubernetes does.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Sends a signal, by name, and returns without waiting for the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status().expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit, up to `timeout`.
    pub async fn exited(&mut self, timeout: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(started.elapsed() < timeout, "joule did not exit within {timeout:?}:\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the host gracefully and waits for it to exit.
    pub async fn stop(mut self) {
        self.terminate();
        let status = self.exited(Duration::from_secs(30)).await;
        assert!(status.success(), "joule exited with {status}:\n{}", self.logs());
    }
}

impl Drop for Joule {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failed test shows what its host logged: the log file goes with the temp dir.
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(200).collect();
            eprintln!("--- the last {} lines joule logged ({}) ---", tail.len(), self.base);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// The subject of [`Joule::operator`]'s token.
pub const OPERATOR: &str = "operator-1";

/// An HTTP client for tests.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client")
}

/// An HTTP client for tests that sends `token` as its bearer token.
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("a token is header text");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder().timeout(Duration::from_secs(60)).default_headers(headers).build().expect("client")
}

/// Sends JSON and returns the status and the parsed body (`Null` when the body is not JSON).
pub async fn send_json(
    request: reqwest::RequestBuilder,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = request.header("content-type", "application/json").body(body.to_string()).send().await.expect("send");
    read(response).await
}

/// The status and parsed JSON body of a response (`Null` when the body is not JSON).
pub async fn read(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// The rows of a CSV text, header first, as the `csv` crate (RFC 4180) reads them: the
/// exports are checked by a parser nobody here wrote.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|record| record.expect("a CSV record").iter().map(str::to_string).collect())
        .collect()
}

/// Polls `check` until it holds, for up to a minute; events arrive asynchronously.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends `count` GETs to `path` at once.
pub fn spawn_gets(joule: &Joule, path: &str, count: usize) -> Vec<tokio::task::JoinHandle<reqwest::Response>> {
    (0..count)
        .map(|_| {
            let request = client().get(joule.url(path));
            tokio::spawn(async move { request.send().await.expect("request") })
        })
        .collect()
}
