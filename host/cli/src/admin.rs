//! `joule deploy`, `joule rollback` and `joule components`: the admin API from the command line.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use serde_json::Value;

#[derive(clap::Args)]
pub struct AdminArgs {
    /// The admin listener of a running joule.
    #[arg(long, default_value = "http://127.0.0.1:3001", env = "JOULE_ADMIN_URL")]
    admin: String,
    /// The admin token.
    #[arg(long, env = "JOULE_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[derive(clap::Args)]
pub struct DeployArgs {
    /// The component, as `spin.toml` names it.
    name: String,
    /// The new version's .wasm file.
    file: PathBuf,
    #[command(flatten)]
    admin: AdminArgs,
}

#[derive(clap::Args)]
pub struct RollbackArgs {
    /// The component, as `spin.toml` names it.
    name: String,
    /// The version to go back to (default: the one active before the current one).
    #[arg(long)]
    to: Option<u32>,
    #[command(flatten)]
    admin: AdminArgs,
}

#[derive(clap::Args)]
pub struct ComponentsArgs {
    /// List every version of this component instead of the active version of each.
    name: Option<String>,
    #[command(flatten)]
    admin: AdminArgs,
}

pub fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let wasm = std::fs::read(&args.file).with_context(|| format!("failed to read {}", args.file.display()))?;
    let request = args.admin.request(reqwest::Method::PUT, &format!("components/{}", args.name))?;
    let deployer = format!("{}@{}", whoami("USER"), whoami("HOSTNAME"));
    let request = request.header("x-joule-deployed-by", deployer).body(wasm);
    let what = format!("deploying {} as component {:?}", args.file.display(), args.name);
    let record = send(request, &what)?;
    let outcome = if record["created"] == true { "deployed" } else { "already active:" };
    println!("{} {outcome} version {} (sha256 {})", args.name, record["version"], text(&record["sha256"]));
    Ok(())
}

pub fn rollback(args: RollbackArgs) -> anyhow::Result<()> {
    let body = serde_json::json!({ "version": args.to });
    let request = args.admin.request(reqwest::Method::POST, &format!("components/{}/rollback", args.name))?;
    let record = send(request.json(&body), &format!("rolling back component {:?}", args.name))?;
    println!("{} rolled back to version {}", args.name, record["version"]);
    Ok(())
}

pub fn components(args: ComponentsArgs) -> anyhow::Result<()> {
    let (path, key, what) = match &args.name {
        Some(name) => (format!("components/{name}/versions"), "versions", format!("listing the versions of {name:?}")),
        None => ("components".to_string(), "components", "listing the components".to_string()),
    };
    let listed = send(args.admin.request(reqwest::Method::GET, &path)?, &what)?;
    println!("{:<24} {:>7}  {:<6}  {:<12}  {:<25}  DEPLOYED BY", "COMPONENT", "VERSION", "ACTIVE", "SHA256", "DEPLOYED AT");
    for record in listed[key].as_array().into_iter().flatten() {
        let sha256 = text(&record["sha256"]);
        println!(
            "{:<24} {:>7}  {:<6}  {:<12}  {:<25}  {}",
            text(&record["component"]),
            record["version"],
            if record["active"] == true { "yes" } else { "" },
            &sha256[..sha256.len().min(12)],
            text(&record["deployedAt"]),
            text(&record["deployedBy"]),
        );
    }
    Ok(())
}

/// Prints how many timers wait, and the dead ones with the reason each failed.
pub fn timers(args: AdminArgs) -> anyhow::Result<()> {
    let listed = send(args.request(reqwest::Method::GET, "timers")?, "listing the timers")?;
    println!("{} timers pending", listed["pending"]);
    let dead = listed["dead"].as_array().cloned().unwrap_or_default();
    if dead.is_empty() {
        println!("no dead timers");
        return Ok(());
    }
    println!("{:<24} {:<36}  {:<32}  {:<27}  {:>8}  ERROR", "COMPONENT", "ID", "EVENT TYPE", "DIED AT", "ATTEMPTS");
    for timer in dead {
        println!(
            "{:<24} {:<36}  {:<32}  {:<27}  {:>8}  {}",
            text(&timer["component"]),
            text(&timer["id"]),
            text(&timer["eventType"]),
            text(&timer["diedAt"]),
            timer["attempts"],
            text(&timer["error"]),
        );
    }
    Ok(())
}

impl AdminArgs {
    fn request(&self, method: reqwest::Method, path: &str) -> anyhow::Result<reqwest::blocking::RequestBuilder> {
        let url = format!("{}/admin/v1/{path}", self.admin.trim_end_matches('/'));
        let client = reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(300)).build()?;
        let mut request = client.request(method, url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        Ok(request)
    }
}

/// Sends the request and returns its JSON body, or an error with the API's own message.
fn send(request: reqwest::blocking::RequestBuilder, what: &str) -> anyhow::Result<Value> {
    let response = request.send().with_context(|| format!("{what} failed: the admin API could not be reached"))?;
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    if !status.is_success() {
        let error = &body["error"];
        match error["message"].as_str() {
            Some(message) => bail!("{what} failed ({status}, {}): {message}", text(&error["code"])),
            None => bail!("{what} failed with {status}"),
        }
    }
    Ok(body)
}

fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

fn whoami(variable: &str) -> String {
    std::env::var(variable).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| "unknown".into())
}
