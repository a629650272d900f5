//! An OTLP/HTTP trace receiver for tests: it accepts `POST /v1/traces` in the JSON
//! encoding and keeps every span it is sent.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// One received span, with the fields the tests look at.
#[derive(Debug, Clone)]
pub struct Span {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// 2 server, 3 client, 4 producer, 5 consumer, as OTLP numbers them.
    pub kind: u64,
    pub attributes: serde_json::Map<String, Value>,
}

impl Span {
    /// A string attribute, or the text of another kind of value.
    pub fn attribute(&self, key: &str) -> Option<String> {
        match self.attributes.get(key)? {
            Value::String(text) => Some(text.clone()),
            other => Some(other.to_string()),
        }
    }
}

pub struct Receiver {
    pub endpoint: String,
    spans: Arc<Mutex<Vec<Span>>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the OTLP receiver");
        let endpoint = format!("http://{}", listener.local_addr().expect("local address"));
        let spans = Arc::new(Mutex::new(Vec::new()));
        let kept = spans.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                let service = service_fn(move |request| receive(kept.clone(), request));
                tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        });
        Self { endpoint, spans }
    }

    pub fn spans(&self) -> Vec<Span> {
        self.spans.lock().expect("spans").clone()
    }
}

async fn receive(spans: Arc<Mutex<Vec<Span>>>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_string();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let Some(export) = parsed.filter(|_| path == "/v1/traces") else {
        let mut response = Response::new(Full::new(Bytes::from_static(b"expected OTLP/JSON on /v1/traces")));
        *response.status_mut() = hyper::StatusCode::BAD_REQUEST;
        return Ok(response);
    };
    spans.lock().expect("spans").extend(parse(&export));
    Ok(Response::new(Full::new(Bytes::from_static(b"{}"))))
}

fn parse(export: &Value) -> Vec<Span> {
    let list = |value: &Value, key: &str| value[key].as_array().cloned().unwrap_or_default();
    let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
    let mut spans = Vec::new();
    for resource in list(export, "resourceSpans") {
        for scope in list(&resource, "scopeSpans") {
            for span in list(&scope, "spans") {
                let attributes = list(&span, "attributes")
                    .iter()
                    .map(|attribute| {
                        let value = attribute["value"].as_object().and_then(|v| v.values().next().cloned());
                        (text(&attribute["key"]), value.unwrap_or(Value::Null))
                    })
                    .collect();
                spans.push(Span {
                    name: text(&span["name"]),
                    trace_id: text(&span["traceId"]).to_lowercase(),
                    span_id: text(&span["spanId"]).to_lowercase(),
                    parent_span_id: text(&span["parentSpanId"]).to_lowercase(),
                    kind: span["kind"].as_u64().unwrap_or_default(),
                    attributes,
                });
            }
        }
    }
    spans
}
