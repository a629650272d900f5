//! The registry's routes under `/admin/v1/`.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use joule_runtime::registry::store::VersionRecord;
use joule_runtime::{DeployError, Runtime};
use joule_http_server::response::{self, Body};
use serde::Deserialize;
use serde_json::json;

use crate::{DEPLOYED_BY_HEADER, MAX_COMPONENT_BYTES};

/// Who a deploy is recorded as when the caller does not say.
const DEFAULT_DEPLOYER: &str = "admin-api";

pub(crate) async fn handle(runtime: &Runtime, route: &str, request: Request<Incoming>) -> Response<Body> {
    let segments: Vec<&str> = route.split('/').collect();
    let registry = runtime.registry();
    match (request.method().clone(), segments.as_slice()) {
        (Method::GET, ["components"]) => match registry.active_versions().await {
            Ok(active) => response::json(StatusCode::OK, &json!({ "components": active })),
            Err(e) => failed(&e),
        },
        (Method::PUT, ["components", name]) => deploy(runtime, name, request).await,
        (Method::GET, ["components", name, "versions"]) => match registry.versions(name).await {
            Ok(versions) => response::json(StatusCode::OK, &json!({ "component": name, "versions": versions })),
            Err(e) => failed(&e),
        },
        (Method::POST, ["components", name, "rollback"]) => rollback(runtime, name, request).await,
        (Method::GET, ["timers"]) => timers(runtime).await,
        (_, ["components"] | ["components", _] | ["components", _, "versions" | "rollback"] | ["timers"]) => response::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{} is not allowed on /admin/v1/{route}", request.method()),
        ),
        _ => not_found(request.uri().path()),
    }
}

pub(crate) fn not_found(path: &str) -> Response<Body> {
    response::error(StatusCode::NOT_FOUND, "not_found", format!("no admin route matches {path}"))
}

async fn deploy(runtime: &Runtime, name: &str, request: Request<Incoming>) -> Response<Body> {
    let deployed_by = request
        .headers()
        .get(DEPLOYED_BY_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty() && v.len() <= 200)
        .unwrap_or(DEFAULT_DEPLOYER)
        .to_string();
    let wasm = match read_body(request).await {
        Ok(wasm) => wasm,
        Err(response) => return response,
    };
    if wasm.is_empty() {
        return response::error(StatusCode::BAD_REQUEST, "empty_body", "send the component's .wasm file as the body");
    }
    match runtime.registry().deploy(name, wasm.to_vec(), &deployed_by).await {
        Ok(deployed) => {
            let status = if deployed.created { StatusCode::CREATED } else { StatusCode::OK };
            response::json(status, &record_with(&deployed.record, deployed.created))
        }
        Err(e) => failed(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackRequest {
    version: Option<u32>,
}

async fn rollback(runtime: &Runtime, name: &str, request: Request<Incoming>) -> Response<Body> {
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let version = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<RollbackRequest>(&body) {
            Ok(request) => request.version,
            Err(e) => {
                let message = format!("the body must be {{\"version\": <positive integer>}} or empty: {e}");
                return response::error(StatusCode::BAD_REQUEST, "invalid_body", message);
            }
        }
    };
    match runtime.registry().rollback(name, version).await {
        Ok(record) => response::json(StatusCode::OK, &record_with(&record, false)),
        Err(e) => failed(&e),
    }
}

/// The dead timers this many at most, newest first.
const DEAD_TIMERS_LISTED: usize = 100;

/// How many timers wait, and the most recent ones whose last attempt failed.
async fn timers(runtime: &Runtime) -> Response<Body> {
    let store = runtime.timers().0;
    match tokio::try_join!(store.pending(), store.dead(DEAD_TIMERS_LISTED)) {
        Ok((pending, dead)) => response::json(StatusCode::OK, &json!({ "pending": pending, "dead": dead })),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the timers could not be read");
            response::error(StatusCode::SERVICE_UNAVAILABLE, "timers_unavailable", format!("the timers could not be read: {e:#}"))
        }
    }
}

fn record_with(record: &VersionRecord, created: bool) -> serde_json::Value {
    let mut value = json!(record);
    value["created"] = json!(created);
    value
}

/// How long a deploy's upload may take; the largest component at 1 MB/s fits.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

async fn read_body(request: Request<Incoming>) -> Result<Bytes, Response<Body>> {
    let read = tokio::time::timeout(BODY_TIMEOUT, Limited::new(request.into_body(), MAX_COMPONENT_BYTES).collect());
    let Ok(read) = read.await else {
        let message = format!("the component did not arrive within {}", humantime::format_duration(BODY_TIMEOUT));
        return Err(response::error(StatusCode::REQUEST_TIMEOUT, "request_timeout", message));
    };
    match read {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(response::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("a component may be at most {MAX_COMPONENT_BYTES} bytes"),
        )),
        Err(e) => Err(response::error(StatusCode::BAD_REQUEST, "bad_request", format!("failed to read the body: {e}"))),
    }
}

fn failed(error: &DeployError) -> Response<Body> {
    let (status, code) = match error {
        DeployError::UnknownComponent(_) => (StatusCode::NOT_FOUND, "unknown_component"),
        DeployError::UnknownVersion { .. } => (StatusCode::NOT_FOUND, "unknown_version"),
        DeployError::NoEarlierVersion(_) => (StatusCode::CONFLICT, "no_earlier_version"),
        DeployError::Rejected { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_component"),
        DeployError::Store(_) => {
            tracing::error!(error = %error, "the component registry failed");
            (StatusCode::SERVICE_UNAVAILABLE, "registry_unavailable")
        }
    };
    response::error(status, code, error.to_string())
}
