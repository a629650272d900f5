//! `openapi.yaml` and the platform agree: every route `spin.toml` serves is in the spec,
//! and every path and method in the spec reaches a handler.

use std::collections::BTreeMap;

use joule_tests::{Joule, read, repo_root};

/// The spec's paths, each with its methods.
fn spec_paths() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(repo_root().join("openapi.yaml")).expect("read openapi.yaml");
    let spec: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("openapi.yaml parses");
    let paths = spec["paths"].as_mapping().expect("openapi.yaml has paths");
    paths
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_mapping()
                .expect("a path item")
                .keys()
                .filter_map(|k| k.as_str())
                .filter(|k| ["get", "put", "post", "delete", "patch"].contains(k))
                .map(str::to_string)
                .collect();
            (path.as_str().expect("a path").to_string(), methods)
        })
        .collect()
}

/// The HTTP routes of the repository's spin.toml.
fn manifest_routes() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("spin.toml")).expect("read spin.toml");
    let manifest: toml::Table = text.parse().expect("spin.toml parses");
    manifest["trigger"]["http"]
        .as_array()
        .expect("[[trigger.http]]")
        .iter()
        .map(|t| t["route"].as_str().expect("a route").to_string())
        .collect()
}

#[test]
fn every_manifest_route_is_in_the_spec() {
    let paths = spec_paths();
    for route in manifest_routes() {
        let covered = match route.strip_suffix("/...") {
            Some(prefix) => paths.keys().any(|p| p == prefix || p.starts_with(&format!("{prefix}/"))),
            None => paths.contains_key(&route),
        };
        assert!(covered, "spin.toml serves {route}, which openapi.yaml does not describe");
    }
}

/// A concrete path for a templated one; ids name nothing, so handlers answer 404 `not_found`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| if segment.starts_with('{') { "01a201af-0000-7000-8000-000000000000" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_path_and_method_in_the_spec_is_served() {
    let joule = Joule::platform().await;
    let paths = spec_paths();
    assert!(paths.len() > 10, "the spec lists the platform's paths: {paths:?}");
    for (path, methods) in &paths {
        for method in methods {
            let url = joule.url(&concrete(path));
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut request = joule.operator().request(method.clone(), url);
            if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
                request = request.header("content-type", "application/json").body("{}");
            }
            let (status, body) = read(request.send().await.unwrap()).await;
            let what = format!("{method} {path}: {status} {body}");
            assert!(status < 500, "{what}");
            assert_ne!(status, 405, "no handler takes this method: {what}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            let unrouted = status == 404 && (message.starts_with("no route matches") || message == "no such resource");
            assert!(!unrouted, "nothing serves this path: {what}");
        }
    }
}
