//! The request headers Spin sets, so that spin-sdk routers work unchanged.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::router::Match;

/// What the trigger knows about a request beyond the request itself.
pub struct RequestInfo<'a> {
    pub full_url: &'a str,
    pub base: &'a str,
    pub client: SocketAddr,
    pub matched: &'a Match<'a>,
}

pub fn insert(headers: &mut HeaderMap, info: &RequestInfo<'_>) {
    let route = info.matched.route;
    let component_route = route.raw.strip_suffix("/...").unwrap_or(&route.raw);
    let component_route = if component_route.is_empty() { "/" } else { component_route };
    // The names are constants: no parsing or allocation per request.
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("spin-full-url", info.full_url);
    set("spin-path-info", &info.matched.path_info);
    set("spin-matched-route", &route.full);
    set("spin-component-route", component_route);
    set("spin-raw-component-route", &route.raw);
    set("spin-base-path", info.base);
    set("spin-client-addr", &info.client.to_string());
    for (name, value) in &info.matched.params {
        let name = HeaderName::try_from(format!("spin-path-match-{}", name.to_ascii_lowercase()));
        if let (Ok(name), Ok(value)) = (name, HeaderValue::try_from(value.as_str())) {
            headers.insert(name, value);
        }
    }
}
