//! The event pipeline end to end, on whichever backends the suite runs against: events
//! published inside a unit of work reach the queue-triggered handler exactly once, failures
//! are retried or dead-lettered, and rolled-back or duplicate events have no effect.

use std::time::Duration;

use joule_tests::admin::sample;
use joule_tests::broker::{dead_letters, deliver};
use joule_tests::{Joule, State, client, eventually, read, send_json};
use serde_json::{Value, json};

const APPLICATION: &str = "joule-events";

async fn events_host(state: &State) -> Joule {
    Joule::with("tests/manifests/events.toml").state(state).ready().await
}

/// Publishes `count` events of `data` through the publisher component; returns their ids.
async fn publish(joule: &Joule, count: usize, data: Value) -> Vec<String> {
    let body = json!({ "type": "test.event.v1", "count": count, "data": data });
    let (status, body) = send_json(client().post(joule.url("/publisher/events")), &body).await;
    assert_eq!(status, 201, "{body}");
    body["ids"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_string()).collect()
}

async fn summary(joule: &Joule) -> Value {
    read(client().get(joule.url("/recorder/summary")).send().await.unwrap()).await.1
}

async fn event(joule: &Joule, id: &str) -> Value {
    read(client().get(joule.url(&format!("/recorder/events/{id}"))).send().await.unwrap()).await.1
}

#[tokio::test]
async fn a_thousand_events_are_each_handled_exactly_once() {
    let state = State::new();
    let joule = events_host(&state).await;
    let requests: Vec<_> = (0..10)
        .map(|_| {
            let request = client()
                .post(joule.url("/publisher/events"))
                .header("content-type", "application/json")
                .body(json!({ "type": "test.event.v1", "count": 100, "data": { "behavior": "ok" } }).to_string());
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), 201);
    }
    eventually("1000 handled events", || async { summary(&joule).await["events"] == 1000 }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(summary(&joule).await, json!({ "events": 1000, "runs": 1000, "duplicates": [] }));
}

#[tokio::test]
async fn a_retryable_failure_succeeds_on_the_third_attempt() {
    let state = State::new();
    let joule = events_host(&state).await;
    let id = publish(&joule, 1, json!({ "behavior": "fail-twice" })).await.remove(0);
    eventually("the third attempt", || async { !event(&joule, &id).await["runs"].as_array().unwrap().is_empty() }).await;
    let seen = event(&joule, &id).await;
    assert_eq!(seen["attempts"], 3, "{seen}");
    assert_eq!(seen["runs"].as_array().unwrap().len(), 1, "the failed attempts rolled back: {seen}");
    assert_eq!(seen["runs"][0]["attempt"], 3);
}

#[tokio::test]
async fn failures_go_to_the_dead_letter_queue_with_their_reason() {
    let state = State::new();
    let joule = events_host(&state).await;
    let queue = state.queue(APPLICATION, "recorder");
    let permanent = publish(&joule, 1, json!({ "behavior": "permanent" })).await.remove(0);
    let exhausted = publish(&joule, 1, json!({ "behavior": "fail-always" })).await.remove(0);
    eventually("two dead letters", || async { dead_letters(&state, &queue).await.len() == 2 }).await;
    let letters = dead_letters(&state, &queue).await;
    let letter = |id: &str| letters.iter().find(|l| l.body["id"] == id).unwrap_or_else(|| panic!("{id} not dead-lettered"));
    let permanent = letter(&permanent);
    assert!(permanent.reason.contains("permanent") && permanent.reason.contains("refusing this event"), "{permanent:?}");
    assert_eq!(permanent.attempts, 1, "a permanent failure is not retried");
    let exhausted = letter(&exhausted);
    assert!(exhausted.reason.contains("after 3 attempts"), "{exhausted:?}");
    assert_eq!(exhausted.attempts, 3);
    assert_eq!(event(&joule, exhausted.body["id"].as_str().unwrap()).await["attempts"], 3);
    assert_eq!(summary(&joule).await["runs"], 0, "neither ran to a commit");

    let metrics = joule.metrics().await;
    let recorder = |name: &str| sample(&metrics, &format!("{name}{{component=\"recorder\"}}"));
    assert_eq!(recorder("joule_dead_lettered_total"), 2.0, "{metrics}");
    assert_eq!(recorder("joule_consumer_retries_total"), 2.0, "the exhausted event was retried twice: {metrics}");
    let outcome = |outcome: &str| {
        let series = format!("joule_invocations_total{{component=\"recorder\",version=\"1\",trigger=\"amqp\",outcome=\"{outcome}\"}}");
        sample(&metrics, &series)
    };
    assert_eq!((outcome("failed"), outcome("permanent_failure")), (3.0, 1.0), "{metrics}");
}

#[tokio::test]
async fn a_duplicate_delivery_runs_once() {
    let state = State::new();
    let joule = events_host(&state).await;
    let queue = state.queue(APPLICATION, "recorder");
    let envelope = json!({
        "specversion": "1.0", "id": "duplicate-1", "source": "outside", "type": "test.event.v1",
        "time": "2026-11-22T10:00:00Z", "datacontenttype": "application/json", "data": { "behavior": "ok" }
    });
    deliver(&state, &queue, "test.event.v1", &envelope).await;
    deliver(&state, &queue, "test.event.v1", &envelope).await;
    eventually("the event", || async { summary(&joule).await["events"] == 1 }).await;
    // A marker sent after both copies: once it is handled, both copies have been delivered.
    let marker = publish(&joule, 1, json!({ "behavior": "ok" })).await.remove(0);
    eventually("the marker", || async { !event(&joule, &marker).await["runs"].as_array().unwrap().is_empty() }).await;
    let seen = event(&joule, "duplicate-1").await;
    assert_eq!(seen["runs"].as_array().unwrap().len(), 1, "{seen}");
    assert_eq!(seen["attempts"], 1, "the second copy never reached the handler: {seen}");
}

#[tokio::test]
async fn an_event_routed_as_soon_as_the_host_is_ready_reaches_its_handler() {
    // Queues are declared and bound before the host serves or relays; the broker would drop
    // an event routed before then, while the consumers were still starting.
    let state = State::new();
    let joule = events_host(&state).await;
    let envelope = json!({
        "specversion": "1.0", "id": "first-1", "source": "outside", "type": "test.event.v1",
        "time": "2026-12-02T10:00:00Z", "datacontenttype": "application/json", "data": { "behavior": "ok" }
    });
    deliver(&state, &state.queue(APPLICATION, "recorder"), "test.event.v1", &envelope).await;
    eventually("the first event", || async { summary(&joule).await["events"] == 1 }).await;
}

#[tokio::test]
async fn a_rolled_back_invocation_leaves_no_rows_and_no_events() {
    let state = State::new();
    let joule = events_host(&state).await;
    let body = json!({ "type": "test.event.v1", "count": 3, "data": { "behavior": "ok" }, "fail": true });
    let (status, failed) = send_json(client().post(joule.url("/publisher/events")), &body).await;
    assert_eq!(status, 500);
    let marker = publish(&joule, 1, json!({ "behavior": "ok" })).await.remove(0);
    eventually("the marker", || async { !event(&joule, &marker).await["runs"].as_array().unwrap().is_empty() }).await;
    for id in failed["ids"].as_array().unwrap() {
        let seen = event(&joule, id.as_str().unwrap()).await;
        assert_eq!(seen["runs"], json!([]), "{id} was delivered although its invocation failed");
        assert_eq!(seen["attempts"], Value::Null);
    }
    let (_, rows) = read(client().get(joule.url("/publisher/rows")).send().await.unwrap()).await;
    assert_eq!(rows["rows"], 1, "only the marker's row is there");
}

/// More events than one outbox write takes (the host writes them in batches of 500): all of
/// a committed invocation's arrive once each, and none of a rolled-back one's.
#[tokio::test]
async fn an_invocation_publishing_many_events_commits_or_rolls_back_all_of_them() {
    let state = State::new();
    let joule = events_host(&state).await;
    let body = json!({ "type": "test.event.v1", "count": 1_200, "data": { "behavior": "ok" }, "fail": true });
    let (status, failed) = send_json(client().post(joule.url("/publisher/events")), &body).await;
    assert_eq!(status, 500);
    let committed = publish(&joule, 1_200, json!({ "behavior": "ok" })).await;
    eventually("1200 handled events", || async { summary(&joule).await["events"] == 1_200 }).await;
    for id in [committed.first().unwrap(), committed.last().unwrap()] {
        assert_eq!(event(&joule, id).await["runs"].as_array().unwrap().len(), 1, "{id}");
    }
    for id in failed["ids"].as_array().unwrap().iter().step_by(100) {
        let seen = event(&joule, id.as_str().unwrap()).await;
        assert_eq!(seen["runs"], json!([]), "{id} was delivered although its invocation failed");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(summary(&joule).await, json!({ "events": 1_200, "runs": 1_200, "duplicates": [] }));
}

#[tokio::test]
async fn events_carry_the_cloudevents_envelope_and_the_caller_context() {
    let state = State::new();
    let joule = events_host(&state).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let response = client()
        .post(joule.url("/publisher/events"))
        .header("content-type", "application/json")
        .header("x-correlation-id", "order-42")
        .header("traceparent", traceparent)
        .body(json!({ "type": "test.other.v1", "count": 1, "data": { "behavior": "ok" } }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-correlation-id"], "order-42");
    let (_, body) = read(response).await;
    let id = body["ids"][0].as_str().unwrap().to_string();
    eventually("the event", || async { !event(&joule, &id).await["runs"].as_array().unwrap().is_empty() }).await;
    let run = &event(&joule, &id).await["runs"][0];
    assert_eq!(run["type"], "test.other.v1");
    assert_eq!(run["source"], "publisher");
    assert_eq!(run["correlationId"], "order-42");
    let trace = run["traceparent"].as_str().unwrap();
    assert!(trace.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "one trace from request to handler: {trace}");
    assert_ne!(trace, traceparent, "the invocation is a span of its own");

    let body = json!({ "type": "test.unlisted.v1", "count": 1 });
    let (status, body) = send_json(client().post(joule.url("/publisher/events")), &body).await;
    assert_eq!(status, 422, "publishing an ungranted type is an error for the guest: {body}");
    assert!(body["error"].as_str().unwrap().contains("NotGranted"), "{body}");
}

#[tokio::test]
async fn stations_publish_their_events() {
    let state = State::new();
    let joule = events_host(&state).await;
    let station = json!({ "name": "Evented", "location": { "lat": 1, "lng": 2 }, "timeZone": "UTC",
                          "connectors": [{ "connectorId": "1", "type": "CCS2", "maxPowerKw": 50 }] });
    // As an operator: only operators write stations.
    let operator = joule.operator();
    let (status, created) = send_json(operator.post(joule.url("/api/v1/stations")), &station).await;
    assert_eq!(status, 201);
    let url = joule.url(&format!("/api/v1/stations/{}", created["id"].as_str().unwrap()));
    assert_eq!(send_json(operator.patch(&url), &json!({ "name": "Renamed" })).await.0, 200);
    let status_url = format!("{url}/connectors/1/status");
    assert_eq!(send_json(operator.put(&status_url), &json!({ "status": "Charging" })).await.0, 200);
    assert_eq!(operator.delete(&url).send().await.unwrap().status(), 204);
    let expected = json!({
        "station.created.v1": 1, "station.removed.v1": 1, "station.status-changed.v1": 1, "station.updated.v1": 1
    });
    eventually("four station events", || async {
        read(operator.get(joule.url("/recorder/types")).send().await.unwrap()).await.1 == expected
    })
    .await;
}

#[tokio::test]
async fn events_committed_before_a_kill_are_sent_after_the_restart() {
    let state = State::new();
    // This host commits events but never relays them; then it is killed outright.
    let mut first = Joule::with("tests/manifests/events.toml").state(&state).arg("--no-relay").ready().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.extend(publish(&first, 20, json!({ "behavior": "ok" })).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(summary(&first).await["events"], 0, "nothing was relayed yet");
    first.kill();
    drop(first);

    let joule = events_host(&state).await;
    eventually("100 events after the restart", || async { summary(&joule).await["events"] == 100 }).await;
    assert_eq!(summary(&joule).await["duplicates"], json!([]));
    for id in [&ids[0], &ids[99]] {
        assert_eq!(event(&joule, id).await["runs"].as_array().unwrap().len(), 1);
    }
}
