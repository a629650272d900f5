//! Spin's routing rules: an exact route beats a wildcard, among wildcards the longest
//! prefix wins, `/...` is a trailing wildcard and `:name` matches one path segment.

use std::cmp::Reverse;

use joule_identity::RoutePolicy;
use joule_runtime::manifest::{Manifest, ManifestError};

use crate::spin_headers::RouteHeaders;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    /// The pattern including the base path, as `spin-matched-route` reports it.
    pub full: String,
    pub component: String,
    pub policy: RoutePolicy,
    pub spin_headers: RouteHeaders,
    segments: Vec<Segment>,
    wildcard: bool,
}

impl Route {
    /// Precedence among routes that match the same path: larger wins.
    fn rank(&self) -> (bool, usize, usize) {
        let literals = self.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
        (!self.wildcard, self.segments.len(), literals)
    }
}

/// A route that matched, with what it captured.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub route: &'a Route,
    pub params: Vec<(String, String)>,
    /// The part of the path the wildcard covered, starting with '/' (or empty).
    pub path_info: String,
}

/// A route as the router names it, with the application's base path: the key of its rate limit too.
pub fn full_route(manifest: &Manifest, route: &str) -> String {
    format!("{}{route}", manifest.application.http_base.trim_end_matches('/'))
}

#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// Builds the router from the manifest's `[[trigger.http]]` entries.
    pub fn new(manifest: &Manifest) -> Result<Self, ManifestError> {
        let base_path = &manifest.application.http_base;
        let mut routes: Vec<Route> = Vec::new();
        for trigger in &manifest.http_triggers {
            let Some(raw) = &trigger.route else { continue };
            let error = |message: String| manifest.error(message).at_key(trigger.key("route"));
            let full = full_route(manifest, raw);
            let (segments, wildcard) = parse(&full).map_err(error)?;
            if let Some(twin) = routes.iter().find(|r| r.segments == segments && r.wildcard == wildcard) {
                return Err(error(format!(
                    "{raw:?} is already routed to component {:?}; each route may appear once",
                    twin.component
                )));
            }
            let spin_headers = RouteHeaders::new(raw, &full, base_path);
            let component = trigger.component.clone();
            let policy = trigger.policy.clone();
            routes.push(Route { full, component, policy, spin_headers, segments, wildcard });
        }
        // Highest precedence first, so the first match is the winner.
        routes.sort_by_key(|route| Reverse(route.rank()));
        Ok(Self { routes })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn find(&self, path: &str) -> Option<Match<'_>> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.routes.iter().find_map(|route| matches(route, &parts))
    }
}

fn matches<'a>(route: &'a Route, parts: &[&str]) -> Option<Match<'a>> {
    if parts.len() < route.segments.len() || (!route.wildcard && parts.len() != route.segments.len()) {
        return None;
    }
    let mut params = Vec::new();
    for (segment, part) in route.segments.iter().zip(parts) {
        match segment {
            Segment::Literal(literal) if literal == part => {}
            Segment::Literal(_) => return None,
            Segment::Param(name) => params.push((name.clone(), (*part).to_string())),
        }
    }
    let rest = &parts[route.segments.len()..];
    let path_info = if rest.is_empty() { String::new() } else { format!("/{}", rest.join("/")) };
    Some(Match { route, params, path_info })
}

fn parse(pattern: &str) -> Result<(Vec<Segment>, bool), String> {
    if !pattern.starts_with('/') {
        return Err(format!("{pattern:?} must start with '/'"));
    }
    let mut parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let wildcard = parts.last() == Some(&"...");
    if wildcard {
        parts.pop();
    }
    let mut names = Vec::new();
    let segments = parts
        .into_iter()
        .map(|part| {
            if part == "..." {
                return Err(format!("{pattern:?} has '...' before its end; it is only a trailing wildcard"));
            }
            match part.strip_prefix(':') {
                Some(name) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => {
                    if names.contains(&name) {
                        return Err(format!("{pattern:?} uses the parameter {name:?} twice"));
                    }
                    names.push(name);
                    Ok(Segment::Param(name.to_string()))
                }
                Some(_) => Err(format!("{pattern:?} has an invalid parameter {part:?}")),
                None if part.contains(['*', '?', '#']) => Err(format!("{pattern:?} has an invalid segment {part:?}")),
                None => Ok(Segment::Literal(part.to_string())),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok((segments, wildcard))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::spin_headers;

    fn router(routes: &[(&str, &str)], base: &str) -> Result<Router, ManifestError> {
        let mut text = format!(
            "spin_manifest_version = 2\n[application]\nname = \"app\"\n[application.trigger.http]\nbase = \"{base}\"\n"
        );
        for (route, component) in routes {
            text.push_str(&format!("[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{component}\"\n"));
        }
        for component in ["a", "b", "c", "d"] {
            text.push_str(&format!("[component.{component}]\nsource = \"{component}.wasm\"\n"));
        }
        Router::new(&Manifest::parse(Path::new("spin.toml"), &text).unwrap())
    }

    fn component<'a>(router: &'a Router, path: &str) -> Option<&'a str> {
        router.find(path).map(|m| m.route.component.as_str())
    }

    #[test]
    fn exact_beats_wildcard_and_longest_prefix_wins() {
        let router =
            router(&[("/...", "a"), ("/api/...", "b"), ("/api/v1/stations/...", "c"), ("/api/v1/stations", "d")], "/")
                .unwrap();
        assert_eq!(component(&router, "/api/v1/stations"), Some("d"));
        assert_eq!(component(&router, "/api/v1/stations/"), Some("d"));
        assert_eq!(component(&router, "/api/v1/stations/42"), Some("c"));
        assert_eq!(component(&router, "/api/v2"), Some("b"));
        assert_eq!(component(&router, "/api"), Some("b"));
        assert_eq!(component(&router, "/elsewhere"), Some("a"));
    }

    #[test]
    fn parameters_capture_one_segment() {
        let router = router(&[("/users/:id", "a"), ("/users/me", "b"), ("/users/:id/...", "c")], "/").unwrap();
        assert_eq!(component(&router, "/users/me"), Some("b"));
        let found = router.find("/users/42").unwrap();
        assert_eq!(found.route.component, "a");
        assert_eq!(found.params, [("id".to_string(), "42".to_string())]);
        let found = router.find("/users/42/cars/7").unwrap();
        assert_eq!(found.route.component, "c");
        assert_eq!(found.path_info, "/cars/7");
        assert!(router.find("/teams").is_none());
    }

    #[test]
    fn wildcard_path_info() {
        let router = router(&[("/api/v1/stations/...", "a")], "/").unwrap();
        assert_eq!(router.find("/api/v1/stations").unwrap().path_info, "");
        assert_eq!(router.find("/api/v1/stations/s1/connectors/2").unwrap().path_info, "/s1/connectors/2");
        assert!(router.find("/api/v1/stationsx").is_none());
    }

    #[test]
    fn routes_are_mounted_under_the_base() {
        let router = router(&[("/hello/...", "a")], "/base/").unwrap();
        assert!(router.find("/hello").is_none());
        let found = router.find("/base/hello/x").unwrap();
        assert_eq!(found.route.full, "/base/hello/...");
        let mut headers = http::HeaderMap::new();
        let client = "127.0.0.1:9".parse().unwrap();
        spin_headers::insert(&mut headers, spin_headers::RequestInfo { full_url: None, client, matched: &found });
        assert_eq!(headers["spin-matched-route"], "/base/hello/...");
        assert_eq!(headers["spin-raw-component-route"], "/hello/...");
        assert_eq!(headers["spin-component-route"], "/hello");
        assert_eq!(headers["spin-base-path"], "/base/");
        assert_eq!(headers["spin-path-info"], "/x");
        assert_eq!(headers["spin-client-addr"], "127.0.0.1:9");
    }

    #[test]
    fn bad_and_duplicate_routes_name_the_entry() {
        let error = router(&[("/a", "a"), ("/a/", "b")], "/").unwrap_err();
        assert_eq!(error.key.as_deref(), Some("trigger.http[1].route"));
        for bad in ["no-slash", "/a/.../b", "/a/:", "/a/:x/:x", "/a*"] {
            let error = router(&[(bad, "a")], "/").unwrap_err();
            assert_eq!(error.key.as_deref(), Some("trigger.http[0].route"), "{bad}");
        }
    }
}
