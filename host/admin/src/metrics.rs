//! `/metrics`: the runtime's metrics in the OpenMetrics text format.

use http::{HeaderValue, Response, StatusCode, header};
use joule_runtime::Runtime;
use joule_http_server::response::{self, Body};

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub(crate) async fn render(runtime: &Runtime) -> Response<Body> {
    match runtime.encode_metrics().await {
        Ok(text) => {
            let mut response = Response::new(Body::from(text));
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            response
        }
        Err(e) => response::error(StatusCode::INTERNAL_SERVER_ERROR, "metrics_failed", e.to_string()),
    }
}
