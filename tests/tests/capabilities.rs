//! The key-value and variables capabilities, and Spin's request headers, seen from a guest.

use std::time::Duration;

use joule_tests::{Joule, client, read};
use serde_json::json;

#[tokio::test]
async fn key_value_get_set_ttl_incr_delete() {
    let joule = Joule::guests().await;
    let http = client();
    let key = |k: &str| joule.url(&format!("/probe/kv/{k}"));

    assert_eq!(http.get(key("colour")).send().await.unwrap().status(), 404);
    assert_eq!(http.put(key("colour")).body("green").send().await.unwrap().status(), 204);
    assert_eq!(http.get(key("colour")).send().await.unwrap().text().await.unwrap(), "green");

    assert_eq!(http.put(key("session")).query(&[("ttl", "1")]).body("s").send().await.unwrap().status(), 204);
    assert_eq!(http.get(key("session")).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(http.get(key("session")).send().await.unwrap().status(), 404, "expired after its time to live");

    for expected in [5, 10, 7] {
        let by = if expected == 7 { "-3" } else { "5" };
        let (status, body) = read(http.post(key("visits") + "/incr").query(&[("by", by)]).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(body["value"], expected);
    }
    let (status, body) = read(http.post(key("colour") + "/incr").send().await.unwrap()).await;
    assert_eq!(status, 409);
    assert!(body["error"].as_str().unwrap().contains("NotAnInteger"), "{body}");

    let (_, body) = read(http.delete(key("colour")).send().await.unwrap()).await;
    assert_eq!(body, json!({ "existed": true }));
    let (_, body) = read(http.delete(key("colour")).send().await.unwrap()).await;
    assert_eq!(body, json!({ "existed": false }));
}

#[tokio::test]
async fn variables_come_from_the_manifest_and_the_environment() {
    let joule = Joule::guests().await;
    let variable = |name: &str| client().get(joule.url(&format!("/probe/vars/{name}"))).send();
    let (_, body) = read(variable("greeting").await.unwrap()).await;
    assert_eq!(body["value"], "hello, world", "the default, through the component's template");
    let (_, body) = read(variable("token").await.unwrap()).await;
    assert_eq!(body["value"], "s3cret", "a required variable, from the environment");
    let (status, body) = read(variable("api_token").await.unwrap()).await;
    assert_eq!(status, 404, "application variables are reachable only through the component's own");
    assert!(body["error"].as_str().unwrap().contains("Undefined"), "{body}");

    let joule = Joule::with("tests/manifests/guests.toml")
        .env("JOULE_VARIABLE_API_TOKEN", "t")
        .env("JOULE_VARIABLE_GREETING", "hoi")
        .ready()
        .await;
    let (_, body) = read(client().get(joule.url("/probe/vars/greeting")).send().await.unwrap()).await;
    assert_eq!(body["value"], "hoi, world");
}

#[tokio::test]
async fn a_required_variable_must_be_set() {
    let (status, stderr) = Joule::with("tests/manifests/guests.toml").fails();
    assert!(!status.success());
    assert!(stderr.contains("variables.api_token"), "{stderr}");
    assert!(stderr.contains("JOULE_VARIABLE_API_TOKEN"), "{stderr}");
}

#[tokio::test]
async fn spin_request_headers() {
    let joule = Joule::guests().await;
    let url = joule.url("/params/eu-west/sites/ams/7?full=1");
    let (status, body) = read(client().get(&url).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let headers = &body["headers"];
    assert_eq!(headers["spin-full-url"], url);
    assert_eq!(headers["spin-path-info"], "/ams/7");
    assert_eq!(headers["spin-matched-route"], "/params/:region/sites/...");
    assert_eq!(headers["spin-raw-component-route"], "/params/:region/sites/...");
    assert_eq!(headers["spin-component-route"], "/params/:region/sites");
    assert_eq!(headers["spin-base-path"], "/");
    assert_eq!(headers["spin-path-match-region"], "eu-west");
    assert!(headers["spin-client-addr"].as_str().unwrap().starts_with("127.0.0.1:"), "{headers}");
    assert_eq!(body["path"], "/params/eu-west/sites/ams/7");
    assert_eq!(body["query"], "full=1");
}
