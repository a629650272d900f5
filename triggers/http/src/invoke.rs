//! A request as a call of its component, and the guest's response as the reply: buffered,
//! kept (committed) only if the component succeeded with a status below 500, and sent only
//! then. The runtime's runner does the rest.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::response::Parts;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full, Limited};
use joule_runtime::invocation::{self, Call, Ended, GuestResult, Invocation, Verdict};
use joule_runtime::{Failure, InvocationContext, LoadedComponent};
use tokio::sync::oneshot;
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use joule_http_server::response::{self, Body};

/// The largest response a component may return; the whole response is buffered.
const MAX_RESPONSE_BYTES: usize = 64 << 20;

type BodyFuture = Pin<Box<dyn Future<Output = Result<Bytes, String>> + Send>>;

/// What the guest gave: the response head and its body, collected or still arriving (a
/// guest may leave its body open; dropping the instance ends it). Or why there is none.
type Served = Result<(Parts, BodyFuture), String>;

/// Runs one request through `component` as one unit of work; the response is buffered.
///
/// This is the whole invocation path behind a route, minus the network.
pub async fn invoke(
    component: Arc<LoadedComponent>,
    request: Request<Full<Bytes>>,
    context: InvocationContext,
) -> Response<Body> {
    let call = Call { component: &component, trigger: "http", span_kind: "server", context, delivery: None };
    let guest = Arc::clone(&component);
    let (ended, _span) = invocation::run(call, move |invocation| Box::pin(serve(guest, invocation, request)), reply).await;
    match ended {
        Ended::Replied { reply, committed: Ok(()) } => reply,
        Ended::Replied { committed: Err(e), .. } => {
            response::error(StatusCode::SERVICE_UNAVAILABLE, "commit_failed", format!("the changes could not be saved: {e}"))
        }
        Ended::Overloaded(overloaded) => retry_later(response::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            overloaded.to_string(),
        )),
        Ended::Failed(failure) => failure_response(&failure),
        Ended::Duplicate | Ended::InboxFailed(_) => unreachable!("a request delivers no event"),
    }
}

/// The guest's part: hands it the request, and reads its response head and body while it runs.
async fn serve(
    component: Arc<LoadedComponent>,
    invocation: &mut Invocation,
    mut request: Request<Full<Bytes>>,
) -> GuestResult<Served> {
    let handler = component.http_handler().expect("routed components export the HTTP handler").clone();
    if let Some(value) = invocation.traceparent().and_then(|t| HeaderValue::from_str(t).ok()) {
        request.headers_mut().insert(crate::TRACEPARENT_HEADER, value);
    }
    let (sender, mut receiver) = oneshot::channel();
    let resources = {
        let mut http = invocation.store().data_mut().http();
        http.new_incoming_request(Scheme::Http, request)
            .and_then(|request| Ok((request, http.new_response_outparam(sender)?)))
    };
    let (request, outparam) = match resources {
        Ok(resources) => resources,
        Err(e) => return Ok(Err(format!("{e:#}"))),
    };
    let metrics = component.metrics();
    let guest = async {
        let instantiating = Instant::now();
        let proxy = handler.instantiate_async(invocation.store()).await?;
        metrics.instantiation(&component.id, "http", instantiating.elapsed());
        proxy.wasi_http_incoming_handler().call_handle(invocation.store(), request, outparam).await
    };
    tokio::pin!(guest);

    // The guest sets the response head, then may go on writing the body. A guest that
    // never yields finishes within the same poll that set the head, so a finished guest
    // still looks for a head.
    let (head, mut done) = tokio::select! {
        head = &mut receiver => (head.ok(), None),
        done = &mut guest => (receiver.try_recv().ok(), Some(done)),
    };
    let response = match head {
        Some(Ok(response)) => response,
        head => {
            match done {
                Some(done) => done?,
                None => guest.await?,
            }
            return Ok(Err(match head {
                Some(Err(code)) => format!("the component failed: {code:?}"),
                _ => "the component returned without setting a response".into(),
            }));
        }
    };
    let (parts, body) = response.into_parts();
    let mut collect: BodyFuture = Box::pin(collect_body(body));
    let mut body = None;
    while done.is_none() {
        tokio::select! {
            finished = &mut guest => done = Some(finished),
            collected = &mut collect, if body.is_none() => body = Some(collected),
        }
    }
    done.expect("the loop ends when the guest is done")?;
    let body = match body {
        Some(collected) => Box::pin(std::future::ready(collected)),
        None => collect,
    };
    Ok(Ok((parts, body)))
}

async fn collect_body(body: HyperOutgoingBody) -> Result<Bytes, String> {
    Limited::new(body, MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|e| format!("the response body failed: {e}"))
}

/// The reply, once the instance is gone: what the guest wrote stays only with a status below
/// 500 and a whole body.
async fn reply(served: Served) -> Verdict<Response<Body>> {
    let body = match served {
        Ok((parts, body)) => body.await.map(|body| Response::from_parts(parts, Full::new(body))),
        Err(reason) => Err(reason),
    };
    match body {
        Ok(response) if response.status().is_server_error() => {
            annotate_status(&response);
            Verdict { reply: response, commit: false, outcome: "error_response" }
        }
        Ok(response) => {
            annotate_status(&response);
            Verdict { reply: response, commit: true, outcome: "success" }
        }
        Err(reason) => {
            tracing::warn!(reason = %reason, "the component gave no response");
            let response =
                response::error(StatusCode::INTERNAL_SERVER_ERROR, "component_failed", "the component gave no response");
            Verdict { reply: response, commit: false, outcome: "no_response" }
        }
    }
}

fn annotate_status(response: &Response<Body>) {
    joule_runtime::trace_context::annotate(&tracing::Span::current(), "status", i64::from(response.status().as_u16()));
}

fn failure_response(failure: &Failure) -> Response<Body> {
    let status = match failure {
        Failure::Timeout => StatusCode::GATEWAY_TIMEOUT,
        Failure::OutOfFuel | Failure::OutOfMemory | Failure::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
        Failure::Trap(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let code = match failure {
        Failure::Trap(_) => "component_failed",
        other => other.outcome(),
    };
    let response = response::error(status, code, failure.public_message());
    if status == StatusCode::SERVICE_UNAVAILABLE { retry_later(response) } else { response }
}

fn retry_later(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
