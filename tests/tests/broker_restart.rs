//! RabbitMQ restarting in the middle of a run loses nothing: the relay and the consumer
//! reconnect, and every event is handled exactly once. The only test in this file, since
//! it takes the broker away from everything else.

use std::process::Command;
use std::time::{Duration, Instant};

use joule_tests::{Joule, State, client, read, send_json};
use serde_json::json;

fn rabbitmqctl(action: &str) {
    let status = Command::new("rabbitmqctl").arg(action).status().expect("rabbitmqctl is installed with RabbitMQ");
    assert!(status.success(), "rabbitmqctl {action} failed");
}

#[tokio::test]
async fn a_broker_restart_loses_nothing() {
    let state = State::new();
    if state.services().is_none() {
        return;
    }
    let joule = Joule::with("tests/manifests/events.toml").state(&state).ready().await;
    let publish = || async {
        let body = json!({ "type": "test.event.v1", "count": 50, "data": { "behavior": "ok" } });
        let (status, body) = send_json(client().post(joule.url("/publisher/events")), &body).await;
        assert_eq!(status, 201, "publishing commits to the outbox whatever the broker does: {body}");
    };
    publish().await;
    rabbitmqctl("stop_app");
    let restarted = scopeguard(|| rabbitmqctl("start_app"));
    for _ in 0..3 {
        publish().await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(restarted);
    publish().await;

    let started = Instant::now();
    loop {
        let (_, summary) = read(client().get(joule.url("/recorder/summary")).send().await.unwrap()).await;
        if summary["events"] == 250 {
            assert_eq!(summary, json!({ "events": 250, "runs": 250, "duplicates": [] }));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "only {summary} after the broker came back");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Runs `f` when dropped, so the broker is started again even if the test fails.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
