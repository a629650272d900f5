//! Prometheus metrics, in the OpenMetrics text format.

use http::{HeaderValue, Response, StatusCode, header};
use joule_runtime::Runtime;
use joule_trigger_http::response::{self, Body};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub(crate) fn render(runtime: &Runtime) -> Response<Body> {
    let mut registry = Registry::with_prefix("joule");
    let active = Family::<Vec<(String, String)>, Gauge>::default();
    registry.register("component_active_version", "The version of each component new invocations use", active.clone());
    for id in runtime.registry().ids() {
        if let Some(component) = runtime.component(&id) {
            active.get_or_create(&vec![("component".into(), id)]).set(i64::from(component.version));
        }
    }
    let mut text = String::new();
    if let Err(e) = encode(&mut text, &registry) {
        return response::error(StatusCode::INTERNAL_SERVER_ERROR, "metrics_failed", e.to_string());
    }
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}
