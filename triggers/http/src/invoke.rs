//! Running one request through a component as one unit of work: the response is
//! buffered, the unit of work commits only if the component succeeded with a status
//! below 500, and only then is the response sent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full, Limited};
use joule_runtime::{Failure, InvocationContext, LoadedComponent, UnitOfWork, trace_context};
use tokio::sync::oneshot;
use tracing::Instrument as _;
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::response::{self, Body};

/// Time past the component's deadline for its host calls to give up, before the
/// invocation is dropped; guest code itself is interrupted at the deadline.
const DEADLINE_GRACE: Duration = Duration::from_millis(50);

/// The largest response a component may return; the whole response is buffered.
const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// How the guest's part of an invocation ended.
enum Outcome {
    Responded(Response<Body>),
    Failed(Failure),
    NoResponse(String),
}

/// Runs one request through `component` as one unit of work; the response is buffered.
///
/// This is the whole invocation path behind a route, minus the network.
pub async fn invoke(
    component: Arc<LoadedComponent>,
    mut request: Request<Full<Bytes>>,
    mut context: InvocationContext,
) -> Response<Body> {
    let span = tracing::info_span!(
        "joule.invoke",
        otel.kind = "server",
        component = %component.id,
        version = component.version,
        trigger = "http",
        trace_id = tracing::field::Empty,
    );
    let traceparent = trace_context::adopt(&span, context.traceparent.as_deref()).to_string();
    if let Ok(value) = HeaderValue::from_str(&traceparent) {
        request.headers_mut().insert(crate::TRACEPARENT_HEADER, value);
    }
    context.traceparent = Some(traceparent);
    async move {
        let started = Instant::now();
        let (response, outcome) = run(&component, request, context).await;
        trace_context::annotate(&tracing::Span::current(), "outcome", outcome);
        component.metrics().invocation(&component.id, component.version, "http", outcome, started.elapsed());
        response
    }
    .instrument(span)
    .await
}

/// The response, and the outcome it is counted under.
async fn run(
    component: &LoadedComponent,
    request: Request<Full<Bytes>>,
    context: InvocationContext,
) -> (Response<Body>, &'static str) {
    let invocation = match component.invocation(context) {
        Ok(invocation) => invocation,
        Err(overloaded) => {
            let mut response = response::error(StatusCode::SERVICE_UNAVAILABLE, "overloaded", overloaded.to_string());
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return (response, "overloaded");
        }
    };
    let deadline = invocation.deadline();
    let guest = run_guest(component, invocation, request);
    let Ok((unit_of_work, outcome)) = tokio::time::timeout_at((deadline + DEADLINE_GRACE).into(), guest).await else {
        // Dropping the invocation rolled its unit of work back.
        return failure_response(component, &Failure::Timeout);
    };
    finish(component, unit_of_work, outcome).await
}

async fn run_guest(
    component: &LoadedComponent,
    mut invocation: joule_runtime::Invocation,
    request: Request<Full<Bytes>>,
) -> (UnitOfWork, Outcome) {
    let handler = component.http_handler().expect("routed components export the HTTP handler").clone();
    let (sender, receiver) = oneshot::channel();
    let resources = {
        let mut http = invocation.store().data_mut().http();
        http.new_incoming_request(Scheme::Http, request)
            .and_then(|request| Ok((request, http.new_response_outparam(sender)?)))
    };
    let (request, outparam) = match resources {
        Ok(resources) => resources,
        Err(e) => return (invocation.into_unit_of_work(), Outcome::NoResponse(format!("{e:#}"))),
    };
    let (metrics, id) = (component.metrics(), &component.id);
    let guest = async move {
        let result = async {
            let instantiating = Instant::now();
            let proxy = handler.instantiate_async(invocation.store()).await?;
            metrics.instantiation(&id, "http", instantiating.elapsed());
            proxy.wasi_http_incoming_handler().call_handle(invocation.store(), request, outparam).await
        }
        .await;
        (invocation, result)
    };
    tokio::pin!(guest);

    // The guest sets the response head, then may go on writing the body. A guest that
    // never yields finishes within the same poll that set the head, so a finished guest
    // still looks for a head.
    let mut receiver = receiver;
    let (head, mut done) = tokio::select! {
        head = &mut receiver => (head.ok(), None),
        done = &mut guest => (receiver.try_recv().ok(), Some(done)),
    };
    let response = match head {
        Some(Ok(response)) => response,
        head => {
            let (invocation, result) = match done {
                Some(done) => done,
                None => guest.await,
            };
            let outcome = match (result, head) {
                (Err(e), _) => Outcome::Failed(Failure::classify(&e)),
                (Ok(()), Some(Err(code))) => Outcome::NoResponse(format!("the component failed: {code:?}")),
                (Ok(()), _) => Outcome::NoResponse("the component returned without setting a response".into()),
            };
            return (invocation.into_unit_of_work(), outcome);
        }
    };
    let (parts, body) = response.into_parts();
    let collect = collect_body(body);
    tokio::pin!(collect);
    let mut body = None;
    while done.is_none() {
        tokio::select! {
            finished = &mut guest => done = Some(finished),
            collected = &mut collect, if body.is_none() => body = Some(collected),
        }
    }
    let (invocation, result) = done.expect("the loop ends when the guest is done");
    // Dropping the instance closes any body the guest left open, so collecting ends.
    let unit_of_work = invocation.into_unit_of_work();
    let body = match body {
        Some(body) => body,
        None => collect.await,
    };
    let outcome = match (result, body) {
        (Err(e), _) => Outcome::Failed(Failure::classify(&e)),
        (Ok(()), Err(e)) => Outcome::NoResponse(e),
        (Ok(()), Ok(body)) => Outcome::Responded(Response::from_parts(parts, Full::new(body))),
    };
    (unit_of_work, outcome)
}

async fn collect_body(body: HyperOutgoingBody) -> Result<Bytes, String> {
    Limited::new(body, MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|e| format!("the response body failed: {e}"))
}

async fn finish(component: &LoadedComponent, unit_of_work: UnitOfWork, outcome: Outcome) -> (Response<Body>, &'static str) {
    let span = tracing::Span::current();
    match outcome {
        Outcome::Responded(response) if response.status().is_server_error() => {
            trace_context::annotate(&span, "status", i64::from(response.status().as_u16()));
            if let Err(e) = unit_of_work.rollback().await {
                tracing::warn!(error = %e, "rollback failed");
            }
            (response, "error_response")
        }
        Outcome::Responded(response) => match unit_of_work.commit().await {
            Ok(()) => {
                trace_context::annotate(&span, "status", i64::from(response.status().as_u16()));
                (response, "success")
            }
            Err(e) => {
                tracing::warn!(error = %e, "the unit of work failed to commit");
                let message = format!("the changes could not be saved: {e}");
                (response::error(StatusCode::SERVICE_UNAVAILABLE, "commit_failed", message), "commit_failed")
            }
        },
        Outcome::Failed(failure) => {
            drop(unit_of_work);
            failure_response(component, &failure)
        }
        Outcome::NoResponse(reason) => {
            drop(unit_of_work);
            tracing::warn!(component = %component.id, reason = %reason, "the component gave no response");
            let response =
                response::error(StatusCode::INTERNAL_SERVER_ERROR, "component_failed", "the component gave no response");
            (response, "no_response")
        }
    }
}

fn failure_response(component: &LoadedComponent, failure: &Failure) -> (Response<Body>, &'static str) {
    let (status, code, outcome) = match failure {
        Failure::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout", "timeout"),
        Failure::OutOfFuel => (StatusCode::SERVICE_UNAVAILABLE, "out_of_fuel", "out_of_fuel"),
        Failure::OutOfMemory => (StatusCode::SERVICE_UNAVAILABLE, "out_of_memory", "out_of_memory"),
        Failure::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded", "overloaded"),
        Failure::Trap(_) => (StatusCode::INTERNAL_SERVER_ERROR, "component_failed", "trap"),
    };
    tracing::warn!(component = %component.id, error = %failure, "invocation failed");
    let mut response = response::error(status, code, failure.public_message());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    (response, outcome)
}
