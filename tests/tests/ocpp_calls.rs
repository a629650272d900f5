//! Calls from the platform to charge points: the test guest `caller` sends them through the
//! `ocpp` capability, and real charge points (the PyPI package `ocpp`, which checks every
//! message against the official schemas) receive and answer them as `--answer` says. The
//! outcome comes back to `caller` as an `ocpp.call-result.v1` event, which it keeps.

use std::time::Duration;

use joule_tests::admin::sample;
use joule_tests::charge_point::{ChargePoint, OCPP16, OCPP201, Step, finish};
use joule_tests::{Joule, State, client, eventually, read, real_backends, send_json};
use serde_json::{Value, json};

async fn joule() -> Joule {
    Joule::with("tests/manifests/ocpp.toml").env("JOULE_OCPP_CALL_TIMEOUT", "2s").ready().await
}

/// Connects `charge_point`, answering as `answer`, for `seconds`; returns once the host holds it.
async fn connect(joule: &Joule, charge_point: &ChargePoint, answer: &str, seconds: u32) -> tokio::process::Child {
    let child = charge_point.spawn(&joule.url(""), "hold", &["--hold", &seconds.to_string(), "--answer", answer]);
    let id = charge_point.id.clone();
    eventually(&format!("{id} is connected"), || async {
        let (_, types) = read(client().get(joule.url("/recorder/types")).send().await.unwrap()).await;
        let connected = types["charge-point.connected.v1"].as_i64().unwrap_or(0);
        let disconnected = types["charge-point.disconnected.v1"].as_i64().unwrap_or(0);
        connected > disconnected
    })
    .await;
    child
}

/// Makes a call through `caller` on `joule`; returns its request id.
async fn call(joule: &Joule, charge_point_id: &str, action: &str, payload: Value) -> String {
    let body = json!({ "chargePointId": charge_point_id, "action": action, "payload": payload });
    let (status, answer) = send_json(client().post(joule.url("/caller/calls")), &body).await;
    assert_eq!(status, 202, "{answer}");
    answer["requestId"].as_str().expect("a request id").to_string()
}

/// The call's result event, once it has come: `{"result": data, "received": n}`.
async fn result(joule: &Joule, request_id: &str) -> Value {
    let url = joule.url(&format!("/caller/results/{request_id}"));
    let started = std::time::Instant::now();
    loop {
        let (status, body) = read(client().get(&url).send().await.unwrap()).await;
        if status == 200 {
            return body;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no result for {request_id}: {status} {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The CALLs the charge point received, as `(action, payload)`.
fn received(steps: &[Step]) -> Vec<(String, Value)> {
    steps
        .iter()
        .filter(|s| s.step == "received")
        .map(|s| (s.raw["action"].as_str().unwrap_or_default().to_string(), s.raw["payload"].clone()))
        .collect()
}

#[tokio::test]
async fn a_call_reaches_the_charge_point_of_either_version_and_its_answer_comes_back() {
    let joule = joule().await;
    let starts = [
        (ChargePoint::new("CP-16", "secret-16", OCPP16), "RemoteStartTransaction", json!({ "idTag": "TAG-1", "connectorId": 1 })),
        (
            ChargePoint::new("CS-201", "secret-201", OCPP201),
            "RequestStartTransaction",
            json!({ "idToken": { "idToken": "TAG-1", "type": "ISO14443" }, "remoteStartId": 7, "evseId": 1 }),
        ),
    ];
    for (charge_point, action, payload) in starts {
        let held = connect(&joule, &charge_point, "accept", 4).await;
        let request_id = call(&joule, &charge_point.id, action, payload.clone()).await;
        let answer = result(&joule, &request_id).await;
        let data = &answer["result"];
        assert_eq!(data["status"], "result", "{answer}");
        assert_eq!(data["payload"], json!({ "status": "Accepted" }), "{answer}");
        assert_eq!((&data["requestId"], &data["chargePointId"], &data["action"]), (&json!(request_id), &json!(charge_point.id), &json!(action)));
        assert_eq!(data["request"], payload);
        assert_eq!(answer["received"], 1, "{answer}");
        let steps = finish(held).await;
        assert_eq!(received(&steps), [(action.to_string(), payload)], "{steps:#?}");
    }
}

#[tokio::test]
async fn calls_that_get_no_answer_come_back_as_failures_of_their_kind() {
    let joule = joule().await;
    let charge_point = ChargePoint::new("CP-16", "secret-16", OCPP16);
    let stop = json!({ "transactionId": 1 });

    // Nobody holds the charge point.
    let not_connected = call(&joule, "CP-16", "RemoteStopTransaction", stop.clone()).await;
    assert_eq!(result(&joule, &not_connected).await["result"]["status"], "not-connected");

    // It answers with a CALLERROR, then a version it does not speak is refused unsent.
    let held = connect(&joule, &charge_point, "error", 4).await;
    let refused = call(&joule, "CP-16", "RemoteStopTransaction", stop.clone()).await;
    let invalid = call(&joule, "CP-16", "RequestStopTransaction", json!({ "transactionId": "T-1" })).await;
    let refusal = result(&joule, &refused).await;
    assert_eq!(refusal["result"]["status"], "call-error", "{refusal}");
    assert_eq!(refusal["result"]["error"]["code"], "GenericError", "{refusal}");
    assert_eq!(refusal["result"]["error"]["description"], "refused by the test charge point", "{refusal}");
    let invalid = result(&joule, &invalid).await;
    assert_eq!(invalid["result"]["status"], "invalid", "{invalid}");
    assert!(invalid["result"]["reason"].as_str().unwrap().contains("RequestStopTransaction"), "{invalid}");
    let steps = finish(held).await;
    assert_eq!(received(&steps), [("RemoteStopTransaction".to_string(), stop.clone())], "{steps:#?}");

    // It never answers: a timeout after the host's 2 s.
    let held = connect(&joule, &charge_point, "silent", 5).await;
    let unanswered = call(&joule, "CP-16", "RemoteStopTransaction", stop.clone()).await;
    let timeout = result(&joule, &unanswered).await;
    assert_eq!(timeout["result"]["status"], "timeout", "{timeout}");
    assert_eq!(received(&finish(held).await).len(), 1);
}

#[tokio::test]
async fn a_call_leaves_only_with_its_unit_of_work_and_bad_calls_are_refused() {
    let joule = joule().await;
    let charge_point = ChargePoint::new("CP-16", "secret-16", OCPP16);
    let held = connect(&joule, &charge_point, "accept", 4).await;
    let rolled_back = json!({ "chargePointId": "CP-16", "action": "ChangeAvailability", "payload": { "connectorId": 0, "type": "Inoperative" }, "fail": true });
    let (status, _) = send_json(client().post(joule.url("/caller/calls")), &rolled_back).await;
    assert_eq!(status, 500);
    for (body, problem) in [
        (json!({ "chargePointId": "", "action": "Reset", "payload": {} }), "charge point id"),
        (json!({ "chargePointId": "CP-16", "action": "Re set", "payload": {} }), "not an OCPP action"),
        (json!({ "chargePointId": "CP-16", "action": "Reset", "payload": [1] }), "not a JSON object"),
    ] {
        let (status, answer) = send_json(client().post(joule.url("/caller/calls")), &body).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains(problem), "{answer}");
    }
    // Five calls in a row each arrive once, in the order they were made, and each result once.
    let mut ids = Vec::new();
    for connector in 1..=5 {
        ids.push(call(&joule, "CP-16", "ChangeAvailability", json!({ "connectorId": connector, "type": "Operative" })).await);
    }
    for id in &ids {
        let answer = result(&joule, id).await;
        assert_eq!((&answer["result"]["status"], &answer["received"]), (&json!("result"), &json!(1)), "{answer}");
    }
    let steps = finish(held).await;
    let connectors: Vec<i64> = received(&steps).iter().map(|(_, payload)| payload["connectorId"].as_i64().unwrap()).collect();
    assert_eq!(connectors, [1, 2, 3, 4, 5], "the rolled-back call was sent, a call twice, or out of order: {steps:#?}");
}

#[tokio::test]
async fn a_call_made_on_one_replica_reaches_the_charge_point_on_the_other() {
    if !real_backends() {
        eprintln!("replicas share Postgres, Redis and RabbitMQ; this runs in the pass against the real services");
        return;
    }
    let state = State::new();
    let replica_state = state.replica();
    let a = Joule::with("tests/manifests/ocpp.toml").state(&state).ready().await;
    let b = Joule::with("tests/manifests/ocpp.toml").state(&replica_state).ready().await;
    let charge_point = ChargePoint::new("CS-201", "secret-201", OCPP201);
    let held = connect(&a, &charge_point, "accept", 5).await;
    // The replicas share the calls' queue, so B takes about half of them, and forwards those.
    let mut sent = Vec::new();
    for remote_start_id in 1..=6 {
        let payload = json!({ "idToken": { "idToken": "TAG-9", "type": "ISO14443" }, "remoteStartId": remote_start_id });
        let request_id = call(&b, "CS-201", "RequestStartTransaction", payload.clone()).await;
        sent.push((request_id, payload));
    }
    for (request_id, _) in &sent {
        let answer = result(&b, request_id).await;
        assert_eq!((&answer["result"]["status"], &answer["received"]), (&json!("result"), &json!(1)), "{answer}");
    }
    let forwarded = sample(&b.metrics().await, "joule_ocpp_calls_forwarded_total");
    assert!(forwarded >= 1.0, "B forwarded none of the calls to A");
    let mut arrived: Vec<i64> = received(&finish(held).await).iter().map(|(_, p)| p["remoteStartId"].as_i64().unwrap()).collect();
    arrived.sort_unstable();
    assert_eq!(arrived, [1, 2, 3, 4, 5, 6]);
}

#[tokio::test]
async fn calls_queued_on_a_replica_killed_mid_call_are_sent_once_from_the_other_or_reported() {
    if !real_backends() {
        eprintln!("replicas share Postgres, Redis and RabbitMQ; this runs in the pass against the real services");
        return;
    }
    let state = State::new();
    let replica_state = state.replica();
    let mut a = Joule::with("tests/manifests/ocpp.toml").state(&state).ready().await;
    let b = Joule::with("tests/manifests/ocpp.toml").state(&replica_state).ready().await;
    // On A the charge point takes the first call and never answers, so the rest queue behind it.
    let on_a = connect(&a, &ChargePoint::new("CP-16", "secret-16", OCPP16), "silent", 3).await;
    let mut calls = Vec::new();
    for connector in 1..=4 {
        let payload = json!({ "connectorId": connector, "type": "Inoperative" });
        calls.push((call(&b, "CP-16", "ChangeAvailability", payload).await, connector));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    a.kill();
    let first = finish(on_a).await;
    // It connects again, to B, and answers from now on.
    let on_b = connect(&b, &ChargePoint::new("CP-16", "secret-16", OCPP16), "accept", 15).await;
    let mut outcomes = Vec::new();
    for (request_id, connector) in &calls {
        let answer = result(&b, request_id).await;
        assert_eq!(answer["received"], 1, "{answer}");
        outcomes.push((*connector, answer["result"]["status"].as_str().unwrap().to_string()));
    }
    let second = finish(on_b).await;
    let connectors = |steps: &[Step]| -> Vec<i64> { received(steps).iter().map(|(_, p)| p["connectorId"].as_i64().unwrap()).collect() };
    let (before, after) = (connectors(&first), connectors(&second));
    assert_eq!(before.len(), 1, "one call at a time on A: {first:#?}");
    for (connector, status) in &outcomes {
        match status.as_str() {
            // Sent on A, whose answer nobody recorded: maybe received, so reported, not sent again.
            "failed" => assert!(before.contains(connector) && !after.contains(connector), "{outcomes:?} {before:?} {after:?}"),
            // Queued unsent on A: sent once, from B.
            "result" => assert!(!before.contains(connector) && after.iter().filter(|c| *c == connector).count() == 1, "{outcomes:?} {before:?} {after:?}"),
            other => panic!("call to connector {connector} ended {other}: {outcomes:?}"),
        }
    }
    assert_eq!(outcomes.iter().filter(|(_, status)| status == "failed").count(), 1, "{outcomes:?}");
}
