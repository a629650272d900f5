//! `/metrics` on the admin listener moves with what the host does: invocations by
//! component, version, trigger and outcome, their durations, instantiations, and the
//! active versions, and the outbox backlog. Retries and dead letters are checked in `events`.

use joule_tests::admin::{guest_wasm, sample};
use joule_tests::{Joule, State, client, eventually, send_json};
use serde_json::json;

const HELLO_SUCCESS: &str =
    r#"joule_invocations_total{component="hello",version="1",trigger="http",outcome="success"}"#;

#[tokio::test]
async fn invocations_durations_instantiations_and_versions_are_counted() {
    let joule = Joule::guests().await;
    let http = client();
    let before = joule.metrics().await;
    for _ in 0..3 {
        assert_eq!(http.get(joule.url("/hello")).send().await.unwrap().status(), 200);
    }
    assert_eq!(http.get(joule.url("/trap")).send().await.unwrap().status(), 500);
    let after = joule.metrics().await;
    assert_eq!(sample(&after, HELLO_SUCCESS) - sample(&before, HELLO_SUCCESS), 3.0, "{after}");
    let trap = r#"joule_invocations_total{component="trap",version="1",trigger="http",outcome="trap"}"#;
    assert_eq!(sample(&after, trap), 1.0, "{after}");
    let durations = r#"joule_invocation_duration_seconds_count{component="hello",trigger="http"}"#;
    assert_eq!(sample(&after, durations) - sample(&before, durations), 3.0, "{after}");
    let instantiations = r#"joule_instantiation_duration_seconds_count{component="hello",trigger="http"}"#;
    assert_eq!(sample(&after, instantiations) - sample(&before, instantiations), 3.0, "{after}");
    assert!(after.contains(r#"joule_invocation_duration_seconds_bucket{le="#), "{after}");

    let (status, _) = joule.deploy("swap", guest_wasm("swap_v2")).await;
    assert_eq!(status, 201);
    assert_eq!(http.get(joule.url("/swap")).send().await.unwrap().text().await.unwrap(), "v2");
    let deployed = joule.metrics().await;
    assert_eq!(sample(&deployed, r#"joule_component_active_version{component="swap"}"#), 2.0, "{deployed}");
    let v2 = r#"joule_invocations_total{component="swap",version="2",trigger="http",outcome="success"}"#;
    assert_eq!(sample(&deployed, v2), 1.0, "{deployed}");
}

#[tokio::test]
async fn the_outbox_backlog_counts_events_waiting_for_the_broker() {
    let state = State::new();
    let events = "tests/manifests/events.toml";
    let held = Joule::with(events).state(&state).arg("--no-relay").ready().await;
    let body = json!({ "type": "test.event.v1", "count": 5, "data": { "behavior": "ok" } });
    let (status, body) = send_json(client().post(held.url("/publisher/events")), &body).await;
    assert_eq!(status, 201, "{body}");
    let metrics = held.metrics().await;
    assert_eq!(sample(&metrics, "joule_outbox_backlog"), 5.0, "nothing relays them: {metrics}");
    held.stop().await;

    let relaying = Joule::with(events).state(&state).ready().await;
    eventually("the backlog relayed", || async { sample(&relaying.metrics().await, "joule_outbox_backlog") == 0.0 }).await;
    assert!(relaying.metrics().await.contains("joule_outbox_backlog 0"), "the gauge is exported at zero too");
}
