//! Health endpoints and graceful shutdown.

use std::time::Duration;

use joule_tests::{Joule, client, read};
use serde_json::json;

#[tokio::test]
async fn health_endpoints() {
    let joule = Joule::platform().await;
    let (status, body) = read(client().get(joule.url("/health/live")).send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "status": "live" })));
    let (status, body) = read(client().get(joule.url("/health/ready")).send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({ "status": "ready" })));
    for path in ["/health/live", "/health/ready"] {
        let response = client().delete(joule.url(path)).send().await.unwrap();
        assert_eq!(response.headers().get("allow").map(|v| v.to_str().unwrap()), Some("GET, HEAD"));
        let (status, body) = read(response).await;
        assert_eq!((status, body["error"]["code"].as_str()), (405, Some("method_not_allowed")), "{body}");
    }
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish() {
    let mut joule = Joule::guests().await;
    let in_flight = {
        let request = client().get(joule.url("/probe/sleep?ms=800"));
        tokio::spawn(async move { request.send().await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    joule.terminate();

    let response = in_flight.await.unwrap().expect("the request in flight is answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({ "slept_ms": 800 }));
    let status = joule.exited(Duration::from_secs(10)).await;
    assert!(status.success(), "exits cleanly: {status}");
    assert!(client().get(joule.url("/hello")).send().await.is_err(), "no new requests after shutdown");
    assert!(joule.logs().contains("received SIGTERM"), "{}", joule.logs());
}
