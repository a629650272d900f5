//! The OCPP trigger against real charge points (the PyPI package `ocpp`, which checks every
//! message against the official schemas both ways) and, for what no well-behaved charge point
//! sends, a socket that writes OCPP-J frames by hand. The test guest `charge-point` knows
//! CP-16 and CS-201 and records each CALL it handles.

use std::time::Duration;

use joule_tests::charge_point::{ChargePoint, OCPP16, OCPP201, Step};
use joule_tests::admin::{guest_wasm, sample};
use joule_tests::ocpp_socket::{Dial, OcppSocket};
use joule_tests::{Joule, client, read};
use serde_json::{Value, json};

async fn joule() -> Joule {
    Joule::with("tests/manifests/ocpp.toml").ready().await
}

async fn calls(joule: &Joule) -> Vec<Value> {
    let (status, body) = read(client().get(joule.url("/charge-point/calls")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().cloned().unwrap_or_default()
}

fn step<'a>(steps: &'a [Step], name: &str, nth: usize) -> &'a Step {
    steps.iter().filter(|s| s.step == name).nth(nth).unwrap_or_else(|| panic!("no step {name} #{nth} in {steps:#?}"))
}

fn dial<'a>(id: &'a str, password: Option<&'a str>, subprotocols: &'a [&'a str]) -> Dial<'a> {
    Dial { id, password, subprotocols }
}

#[tokio::test]
async fn real_charge_points_of_both_versions_boot_beat_report_and_authorize() {
    let joule = joule().await;
    for (id, password, protocol, subprotocol) in
        [("CP-16", "secret-16", OCPP16, "ocpp1.6"), ("CS-201", "secret-201", OCPP201, "ocpp2.0.1")]
    {
        let steps = ChargePoint::new(id, password, protocol).run(&joule.url(""), "basic").await;
        assert!(steps.iter().all(|s| s.ok), "{protocol}: {steps:#?}");
        assert_eq!(step(&steps, "BootNotification", 0).response["status"], "Accepted");
        assert_eq!(step(&steps, "BootNotification", 0).response["interval"], 300);
        assert!(step(&steps, "Heartbeat", 0).response["currentTime"].is_string());
        let info = if protocol == OCPP16 { "idTagInfo" } else { "idTokenInfo" };
        let statuses: Vec<&Value> = (0..3).map(|n| &step(&steps, "Authorize", n).response[info]["status"]).collect();
        assert_eq!(statuses, [&json!("Accepted"), &json!("Blocked"), &json!("Invalid")], "{protocol}");

        // Each CALL ran once, as the charge point: its id is the caller, its role charge-point.
        let recorded: Vec<Value> = calls(&joule).await.into_iter().filter(|c| c["charge_point_id"] == id).collect();
        let actions: Vec<&str> = recorded.iter().map(|c| c["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["BootNotification", "Heartbeat", "StatusNotification", "Authorize", "Authorize", "Authorize"]);
        for call in &recorded {
            assert_eq!(call["protocol"], subprotocol);
            assert_eq!(call["caller_subject"], id);
            assert_eq!(call["caller_roles"], "charge-point");
        }
    }
}

#[tokio::test]
async fn a_component_fault_fails_that_message_only() {
    let joule = joule().await;
    // Another charge point stays connected throughout, beating every second.
    let bystander = ChargePoint::new("CS-201", "secret-201", OCPP201).spawn(&joule.url(""), "hold", &["--hold", "4"]);
    let steps = ChargePoint::new("CP-16", "secret-16", OCPP16).run(&joule.url(""), "fault").await;
    let transfers: Vec<&Step> = steps.iter().filter(|s| s.step == "DataTransfer").collect();
    assert_eq!(transfers.len(), 3, "{steps:#?}");
    // A trap, a refusal and an answer that breaks the schema: each a CALLERROR of its own.
    assert_eq!(transfers[0].error_code(), Some("InternalError"), "{steps:#?}");
    assert_eq!(transfers[1].error_code(), Some("GenericError"), "{steps:#?}");
    assert_eq!(transfers[2].error_code(), Some("InternalError"), "{steps:#?}");
    // The connection carried on after each.
    let beats: Vec<&Step> = steps.iter().filter(|s| s.step == "Heartbeat").collect();
    assert!(beats.len() == 2 && beats.iter().all(|s| s.ok), "{steps:#?}");
    let held = joule_tests::charge_point::finish(bystander).await;
    assert!(!held.is_empty() && held.iter().all(|s| s.ok), "the other charge point was disturbed: {held:#?}");
    // What the refused and the failed CALLs wrote was rolled back.
    let kept: Vec<Value> = calls(&joule).await.into_iter().filter(|c| c["action"] == "DataTransfer").collect();
    assert!(kept.is_empty(), "{kept:#?}");
}

#[tokio::test]
async fn handshakes_are_refused_with_the_reason() {
    let joule = joule().await;
    let base = joule.url("");
    let refused = |result: Result<OcppSocket, (u16, Value)>| result.err().expect("the handshake is refused");
    let (status, body) = refused(OcppSocket::connect(&base, dial("CP-16", Some("secret-16"), &["ocpp2.1"])).await);
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("unsupported_subprotocol")), "{body}");
    let (status, _) = refused(OcppSocket::connect(&base, dial("CP-16", Some("secret-16"), &[])).await);
    assert_eq!(status, 400);
    for (id, password) in [("CP-99", Some("secret-16")), ("CP-16", Some("wrong")), ("CP-16", None)] {
        let (status, body) = refused(OcppSocket::connect(&base, dial(id, password, &["ocpp1.6"])).await);
        assert_eq!(status, 401, "{id} {password:?}: {body}");
    }
    let plain = client().get(joule.url("/ocpp/CP-16")).send().await.unwrap();
    assert_eq!(plain.status(), 426);
    // The version offered first that Joule speaks is the one chosen.
    let socket = OcppSocket::connect(&base, dial("CP-16", Some("secret-16"), &["ocpp2.1", "ocpp1.6"])).await.unwrap();
    assert_eq!(socket.protocol, "ocpp1.6");
    assert!(calls(&joule).await.is_empty(), "no CALL ran");
}

#[tokio::test]
async fn broken_frames_and_payloads_get_the_code_their_version_names() {
    let joule = joule().await;
    let base = joule.url("");
    let mut v16 = OcppSocket::connect(&base, dial("CP-16", Some("secret-16"), &["ocpp1.6"])).await.unwrap();
    let code = |frame: &Value| frame[2].as_str().unwrap_or_default().to_string();
    v16.send_text("[2, \"m0\", \"Heartbeat\"").await;
    let frame = v16.next_frame().await.unwrap();
    assert_eq!((frame[0].as_i64(), frame[1].as_str(), code(&frame).as_str()), (Some(4), Some("-1"), "FormationViolation"));
    let cases = [
        // OCPP-J 1.6 spells it so (Table 7); 2.0.1 corrected it.
        ("m1", "BootNotification", json!({"chargePointVendor": "V"}), "OccurenceConstraintViolation"),
        ("m2", "BootNotification", json!({"chargePointVendor": 12, "chargePointModel": "M"}), "TypeConstraintViolation"),
        ("m3", "BootNotification", json!({"chargePointVendor": "V".repeat(21), "chargePointModel": "M"}), "PropertyConstraintViolation"),
        ("m4", "Heartbeat", json!({"surprise": 1}), "FormationViolation"),
        ("m5", "FlyToTheMoon", json!({}), "NotImplemented"),
        ("m6", "RemoteStartTransaction", json!({"idTag": "T"}), "NotSupported"),
    ];
    for (id, action, payload, expected) in cases {
        let frame = v16.call(id, action, payload).await;
        assert_eq!((frame[0].as_i64(), code(&frame)), (Some(4), expected.to_string()), "{action}: {frame}");
    }
    let mut v201 = OcppSocket::connect(&base, dial("CS-201", Some("secret-201"), &["ocpp2.0.1"])).await.unwrap();
    v201.send_text("not json").await;
    let frame = v201.next_frame().await.unwrap();
    assert_eq!(code(&frame), "RpcFrameworkError", "{frame}");
    let frame = v201.call("n1", "Heartbeat", json!({"surprise": 1})).await;
    assert_eq!(code(&frame), "FormatViolation", "{frame}");
    let frame = v201.call("n2", "BootNotification", json!({"reason": "PowerUp"})).await;
    assert_eq!(code(&frame), "OccurrenceConstraintViolation", "{frame}");
    // Nothing that was refused reached the component.
    assert!(calls(&joule).await.is_empty());
}

#[tokio::test]
async fn one_call_at_a_time_and_a_retransmission_runs_once() {
    let joule = joule().await;
    let mut socket =
        OcppSocket::connect(&joule.url(""), dial("CP-16", Some("secret-16"), &["ocpp1.6"])).await.unwrap();
    let slow = json!([2, "slow-1", "DataTransfer", {"vendorId": "slow"}]).to_string();
    socket.send_text(&slow).await;
    // A second CALL while the first is in hand is refused; the copy of the first is dropped.
    let second = socket.call("beat-1", "Heartbeat", json!({})).await;
    assert_eq!(second[2], "ProtocolError", "{second}");
    socket.send_text(&slow).await;
    let first = socket.answer_to("slow-1").await;
    assert_eq!(first[0], 3, "{first}");
    // Sent again once answered: the same answer, and the component does not run again.
    socket.send_text(&slow).await;
    assert_eq!(socket.answer_to("slow-1").await, first);
    let transfers = calls(&joule).await.into_iter().filter(|c| c["message_id"] == "slow-1").count();
    assert_eq!(transfers, 1);
    // Counted by action and outcome; a made-up action is not a label of its own.
    socket.call("moon-1", "FlyToTheMoon", json!({})).await;
    let metrics = joule.metrics().await;
    for (series, expected) in [
        (r#"joule_ocpp_messages_total{action="DataTransfer",outcome="result"}"#, 1.0),
        (r#"joule_ocpp_messages_total{action="DataTransfer",outcome="replayed"}"#, 1.0),
        (r#"joule_ocpp_messages_total{action="Heartbeat",outcome="refused"}"#, 1.0),
        (r#"joule_ocpp_messages_total{action="unknown",outcome="refused"}"#, 1.0),
        (r#"joule_ocpp_answer_duration_seconds_count{action="DataTransfer"}"#, 1.0),
        ("joule_ocpp_connected_charge_points", 1.0),
    ] {
        assert_eq!(sample(&metrics, series), expected, "{series} in {metrics}");
    }
}

#[tokio::test]
async fn a_charge_point_that_connects_again_replaces_its_old_connection() {
    let joule = joule().await;
    let base = joule.url("");
    let mut old = OcppSocket::connect(&base, dial("CP-16", Some("secret-16"), &["ocpp1.6"])).await.unwrap();
    let mut new = OcppSocket::connect(&base, dial("CP-16", Some("secret-16"), &["ocpp1.6"])).await.unwrap();
    let close = old.closed(Duration::from_secs(10)).await.expect("a close frame");
    assert!(close.reason.as_str().contains("replaced"), "{close:?}");
    let frame = new.call("b1", "Heartbeat", json!({})).await;
    assert_eq!(frame[0], 3, "{frame}");

    // The host told the queues: two connections, the replaced one gone; then the other too.
    let counts = || async { read(client().get(joule.url("/recorder/types")).send().await.unwrap()).await.1 };
    let expect = |connected: u64, disconnected: u64| {
        json!({ "charge-point.connected.v1": connected, "charge-point.disconnected.v1": disconnected })
    };
    joule_tests::eventually("two connections and one disconnection", || async { counts().await == expect(2, 1) }).await;
    drop(new);
    joule_tests::eventually("both disconnected", || async { counts().await == expect(2, 2) }).await;
}

#[tokio::test]
async fn a_silent_charge_point_is_let_go_and_a_quiet_live_one_kept() {
    let joule = Joule::with("tests/manifests/ocpp.toml")
        .env("JOULE_OCPP_PING_INTERVAL", "300ms")
        .env("JOULE_OCPP_IDLE_TIMEOUT", "1500ms")
        .ready()
        .await;
    let base = joule.url("");
    let mut live = OcppSocket::connect(&base, dial("CS-201", Some("secret-201"), &["ocpp2.0.1"])).await.unwrap();
    let mut silent = OcppSocket::connect(&base, dial("CP-16", Some("secret-16"), &["ocpp1.6"])).await.unwrap();
    // The live one reads, so its pongs answer the host's pings; the silent one reads nothing.
    live.listen(Duration::from_secs(3)).await;
    let close = silent.closed(Duration::from_secs(5)).await.expect("a close frame");
    assert!(close.reason.as_str().contains("idle"), "{close:?}");
    let frame = live.call("b1", "Heartbeat", json!({})).await;
    assert_eq!(frame[0], 3, "{frame}");
}

#[tokio::test]
async fn deploying_the_authorize_component_changes_the_next_answer_and_drops_no_connection() {
    let joule = joule().await;
    let mut socket =
        OcppSocket::connect_at(&joule.url(""), "/ocpp-swap", dial("CP-16", Some("secret-16"), &["ocpp1.6"])).await.unwrap();
    let before = socket.call("a1", "Authorize", json!({ "idTag": "TOKEN-1" })).await;
    assert_eq!(before[2]["idTagInfo"]["status"], "Accepted", "{before}");
    let (status, deployed) = joule.deploy("authorizer", guest_wasm("authorize_v2")).await;
    assert_eq!(status, 201, "{deployed}");
    // The same connection: the next Authorize runs the new version, the rest the route's own.
    let after = socket.call("a2", "Authorize", json!({ "idTag": "TOKEN-1" })).await;
    assert_eq!(after[2]["idTagInfo"]["status"], "Blocked", "{after}");
    let beat = socket.call("b1", "Heartbeat", json!({})).await;
    assert_eq!(beat[0], 3, "{beat}");
    assert_eq!(sample(&joule.metrics().await, "joule_ocpp_connected_charge_points"), 1.0);
}
