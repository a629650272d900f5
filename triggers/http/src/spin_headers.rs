//! The request headers Spin sets, so that spin-sdk routers work unchanged.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::router::Match;

/// The Spin headers that depend on the route alone, built once when the router is.
#[derive(Debug, Clone)]
pub struct RouteHeaders {
    matched_route: Option<HeaderValue>,
    component_route: Option<HeaderValue>,
    raw_component_route: Option<HeaderValue>,
    base_path: Option<HeaderValue>,
}

impl RouteHeaders {
    /// `raw` is the route as the manifest wrote it, `full` the same under the base path.
    pub fn new(raw: &str, full: &str, base: &str) -> Self {
        let component_route = raw.strip_suffix("/...").unwrap_or(raw);
        let component_route = if component_route.is_empty() { "/" } else { component_route };
        let value = |text: &str| HeaderValue::try_from(text).ok();
        Self {
            matched_route: value(full),
            component_route: value(component_route),
            raw_component_route: value(raw),
            base_path: value(base),
        }
    }
}

/// What the trigger knows about a request beyond the request itself.
pub struct RequestInfo<'a> {
    /// The request's whole URL; none when it is not a valid header value.
    pub full_url: Option<HeaderValue>,
    pub client: SocketAddr,
    pub matched: &'a Match<'a>,
}

pub fn insert(headers: &mut HeaderMap, info: RequestInfo<'_>) {
    let route = &info.matched.route.spin_headers;
    headers.reserve(7 + info.matched.params.len());
    // The names are constants and the route's values are shared: no parsing, and an
    // allocation only for what differs per request.
    let mut set = |name: &'static str, value: Option<HeaderValue>| {
        if let Some(value) = value {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("spin-full-url", info.full_url);
    set("spin-path-info", HeaderValue::try_from(info.matched.path_info.as_str()).ok());
    set("spin-matched-route", route.matched_route.clone());
    set("spin-component-route", route.component_route.clone());
    set("spin-raw-component-route", route.raw_component_route.clone());
    set("spin-base-path", route.base_path.clone());
    set("spin-client-addr", HeaderValue::try_from(info.client.to_string()).ok());
    for (name, value) in &info.matched.params {
        let name = HeaderName::try_from(format!("spin-path-match-{}", name.to_ascii_lowercase()));
        if let (Ok(name), Ok(value)) = (name, HeaderValue::try_from(value.as_str())) {
            headers.insert(name, value);
        }
    }
}
