//! A `joule up` process for a benchmark, and the few HTTP calls made outside the load.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// The admin token benchmark hosts start with.
pub const ADMIN_TOKEN: &str = "bench-admin-token";

pub struct Host {
    child: Child,
    pub address: String,
    pub admin_address: String,
    /// Removed when the host is dropped.
    state: tempfile::TempDir,
}

impl Host {
    /// Starts `joule up` with `manifest` and `env`, and waits until it is ready.
    pub fn start(joule: &Path, manifest: &Path, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let state = tempfile::tempdir()?;
        let free_port = || anyhow::Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port());
        let address = format!("127.0.0.1:{}", free_port()?);
        let admin_address = format!("127.0.0.1:{}", free_port()?);
        let child = Command::new(joule)
            .args(["up", "--listen", &address, "--admin-listen", &admin_address, "-f"])
            .arg(manifest)
            .arg("--state-dir")
            .arg(state.path())
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("JOULE_LOG", "warn")
            .env("JOULE_ADMIN_TOKEN", ADMIN_TOKEN)
            .stdout(Stdio::null())
            .spawn()
            .context("failed to start joule")?;
        let mut host = Self { child, address, admin_address, state };
        host.wait_ready()?;
        Ok(host)
    }

    /// The process's resident memory, in KiB, from /proc.
    pub fn resident_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS in /proc/<pid>/status")?;
        Ok(line.split_whitespace().nth(1).context("a VmRSS figure")?.parse()?)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A token of the host's development issuer (`joule token`).
    pub fn token(&self, joule: &Path, subject: &str, roles: &[&str]) -> anyhow::Result<String> {
        let mut command = Command::new(joule);
        command.args(["token", "--subject", subject, "--state-dir"]).arg(self.state.path()).env_remove("JOULE_OIDC_ISSUER");
        for role in roles {
            command.args(["--role", role]);
        }
        let output = command.output()?;
        anyhow::ensure!(output.status.success(), "joule token failed: {}", String::from_utf8_lossy(&output.stderr));
        Ok(String::from_utf8(output.stdout)?.trim().to_string())
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("joule exited ({status}) before it was ready");
            }
            if self.request("GET", "/health/ready", None).is_ok_and(|(status, _)| status == 200) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("joule was not ready within 2 minutes");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A bare HTTP/1.1 request: enough for setup calls without an HTTP client dependency.
    pub fn request(&self, method: &str, path: &str, json: Option<&serde_json::Value>) -> anyhow::Result<(u16, String)> {
        let body = json.map(|j| j.to_string()).unwrap_or_default();
        send(&self.address, method, path, "content-type: application/json\r\n", body.as_bytes())
    }

    /// The same, as the caller whose bearer token is `token`.
    pub fn request_as(&self, token: &str, method: &str, path: &str, json: &serde_json::Value) -> anyhow::Result<(u16, String)> {
        let headers = format!("content-type: application/json\r\nauthorization: Bearer {token}\r\n");
        send(&self.address, method, path, &headers, json.to_string().as_bytes())
    }

    /// A request to the admin listener, with the token.
    pub fn admin(&self, method: &str, path: &str, body: &[u8]) -> anyhow::Result<(u16, String)> {
        send(&self.admin_address, method, path, &format!("authorization: Bearer {ADMIN_TOKEN}\r\n"), body)
    }
}

fn send(address: &str, method: &str, path: &str, headers: &str, body: &[u8]) -> anyhow::Result<(u16, String)> {
    // Bounded, so that a host that cannot answer shows up as a timeout, not a hang.
    let socket = address.parse().context("a socket address")?;
    let mut stream = TcpStream::connect_timeout(&socket, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n{headers}content-length: {}\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).context("no status line")?.parse()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
