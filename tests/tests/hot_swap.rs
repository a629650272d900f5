//! Hot swap: deploys and rollbacks through the admin API while the host keeps serving.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use joule_tests::admin::{ADMIN_TOKEN, guest_wasm};
use joule_tests::{Joule, client, read};

/// Concurrent clients kept busy through the deploys.
const CLIENTS: usize = 32;
const DEPLOYS: usize = 20;

/// One answered request: when it was sent and answered, and what came back.
struct Answer {
    sent: Instant,
    answered: Instant,
    status: u16,
    body: String,
}

#[tokio::test]
async fn deploys_under_load_switch_atomically_without_failing_a_request() {
    let joule = Arc::new(Joule::guests().await);
    let (v1, v2) = (guest_wasm("swap_v1"), guest_wasm("swap_v2"));
    let stop = Arc::new(AtomicBool::new(false));
    let http = client();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (joule, stop, http) = (joule.clone(), stop.clone(), http.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let response = http.get(joule.url("/swap")).send().await.expect("request");
                    let status = response.status().as_u16();
                    let body = response.text().await.expect("body");
                    answers.push(Answer { sent, answered: Instant::now(), status, body });
                }
                answers
            })
        })
        .collect();

    // (returned, next deploy started, the body that window must see)
    let mut windows = Vec::new();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for round in 0..DEPLOYS {
        let (wasm, expected) = if round % 2 == 0 { (v2.clone(), "v2") } else { (v1.clone(), "v1") };
        if let Some(last) = windows.last_mut() {
            let (_, next_started, _): &mut (Instant, Instant, &str) = last;
            *next_started = Instant::now();
        }
        let (status, deployed) = joule.deploy("swap", wasm).await;
        assert_eq!(status, 201, "deploy {round}: {deployed}");
        assert_eq!(deployed["version"], round + 2, "each deploy is a new version: {deployed}");
        let returned = Instant::now();
        windows.push((returned, returned + Duration::from_secs(3600), expected));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await.expect("client task"));
    }

    assert!(answers.len() > DEPLOYS * CLIENTS, "the load kept going: {} requests", answers.len());
    for answer in &answers {
        assert_eq!(answer.status, 200, "no request fails: {}", answer.body);
        assert!(answer.body == "v1" || answer.body == "v2", "every response comes from v1 or v2: {:?}", answer.body);
    }
    for (returned, next_started, expected) in &windows {
        // Sent after one deploy returned and answered before the next began: only that version.
        let window: Vec<_> = answers.iter().filter(|a| a.sent >= *returned && a.answered < *next_started).collect();
        assert!(!window.is_empty(), "requests ran between deploys");
        let stale = window.iter().filter(|a| a.body != *expected).count();
        assert_eq!(stale, 0, "{stale} of {} requests sent after a deploy returned still got the old version", window.len());
    }
}

#[tokio::test]
async fn rollback_restores_the_previous_version_and_the_cli_drives_the_registry() {
    let joule = Joule::guests().await;
    let body = async |joule: &Joule| client().get(joule.url("/swap")).send().await.unwrap().text().await.unwrap();
    let (status, _) = joule.deploy("swap", guest_wasm("swap_v2")).await;
    assert_eq!(status, 201);
    assert_eq!(body(&joule).await, "v2");
    // The same bytes again change nothing.
    let (status, again) = joule.deploy("swap", guest_wasm("swap_v2")).await;
    assert_eq!((status, &again["version"], &again["created"]), (200, &2.into(), &false.into()), "{again}");

    let (status, rolled) = joule.rollback("swap", None).await;
    assert_eq!((status, &rolled["version"]), (200, &1.into()), "{rolled}");
    assert_eq!(body(&joule).await, "v1");
    let (_, listed) = joule.admin_get("/admin/v1/components/swap/versions").await;
    let versions = listed["versions"].as_array().unwrap();
    let summary: Vec<_> = versions.iter().map(|v| (v["version"].as_u64().unwrap(), v["active"].as_bool().unwrap())).collect();
    assert_eq!(summary, [(2, false), (1, true)], "{listed}");
    assert_eq!(versions[1]["deployedBy"], "manifest");
    assert_eq!(versions[0]["deployedBy"], "admin-api");

    // The CLI: roll forward to version 2, then list.
    let cli = |args: &[&str]| {
        std::process::Command::new(joule_tests::joule_binary())
            .args(args)
            .args(["--admin", &joule.admin_url("")])
            .env("JOULE_ADMIN_TOKEN", ADMIN_TOKEN)
            .output()
            .expect("run joule")
    };
    let output = cli(&["rollback", "swap", "--to", "2"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(body(&joule).await, "v2");
    let output = cli(&["components"]);
    let listing = String::from_utf8_lossy(&output.stdout);
    assert!(listing.lines().any(|l| l.starts_with("swap ") && l.contains(" 2 ") && l.contains("yes")), "{listing}");
    let file = joule_tests::repo_root().join("tests/guests/target/wasm32-wasip2/release/swap_v1.wasm");
    let output = cli(&["deploy", "swap", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("deployed version 3"));
    assert_eq!(body(&joule).await, "v1");

    let (status, missing) = joule.rollback("swap", Some(99)).await;
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("unknown_version")), "{missing}");
    let output = cli(&["rollback", "swap", "--to", "99"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no version 99"));
    let (status, fresh) = joule.rollback("hello", None).await;
    assert_eq!((status, fresh["error"]["code"].as_str()), (409, Some("no_earlier_version")), "{fresh}");
}

#[tokio::test]
async fn bad_deploys_are_refused_and_the_active_version_keeps_serving() {
    let joule = Joule::guests().await;
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    joule_tests::build_platform();
    let pricing_rule = std::fs::read(joule_tests::repo_root().join("components/target/wasm32-wasip2/release/ocpi_rule.wasm"))
        .expect("the EV components are built");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("not wasm", b"#!/bin/sh\necho hello\n".to_vec(), "not WebAssembly"),
        ("a core module", core_module, "core wasm module, not a component"),
        ("the wrong world: a pricing rule", pricing_rule, "wasi:http/incoming-handler"),
        ("an ungranted import", guest_wasm("ungranted"), "key-value capability"),
    ];
    for (what, wasm, reason) in cases {
        let (status, refused) = joule.deploy("swap", wasm).await;
        assert_eq!((status, refused["error"]["code"].as_str()), (422, Some("invalid_component")), "{what}: {refused}");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{what}: {message:?} should say {reason:?}");
        let response = client().get(joule.url("/swap")).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "v1", "{what}: the active version keeps serving");
    }
    let (_, listed) = joule.admin_get("/admin/v1/components/swap/versions").await;
    assert_eq!(listed["versions"].as_array().unwrap().len(), 1, "nothing refused was stored: {listed}");
    let (status, unknown) = joule.deploy("nonexistent", guest_wasm("swap_v2")).await;
    assert_eq!((status, unknown["error"]["code"].as_str()), (404, Some("unknown_component")), "{unknown}");
    let (status, empty) = joule.deploy("swap", Vec::new()).await;
    assert_eq!(status, 400, "{empty}");
}

#[tokio::test]
async fn the_admin_api_wants_the_token_and_metrics_do_not() {
    let joule = Joule::guests().await;
    let http = client();
    let url = joule.admin_url("/admin/v1/components");
    let (status, body) = read(http.get(&url).send().await.unwrap()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")), "no token: {body}");
    let (status, _) = read(http.get(&url).bearer_auth("wrong-token").send().await.unwrap()).await;
    assert_eq!(status, 401, "a wrong token");
    let wrong_deploy = http.put(joule.admin_url("/admin/v1/components/swap")).bearer_auth(&ADMIN_TOKEN[1..]);
    let (status, _) = read(wrong_deploy.body(guest_wasm("swap_v2")).send().await.unwrap()).await;
    assert_eq!(status, 401, "a deploy with a wrong token");
    assert_eq!(client().get(joule.url("/swap")).send().await.unwrap().text().await.unwrap(), "v1");

    let (status, listed) = joule.admin_get("/admin/v1/components").await;
    assert_eq!(status, 200);
    let names: Vec<_> = listed["components"].as_array().unwrap().iter().map(|c| c["component"].as_str().unwrap()).collect();
    assert!(names.contains(&"swap") && names.contains(&"hello"), "{listed}");

    let metrics = http.get(joule.admin_url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("joule_component_active_version{component=\"swap\"} 1"), "{metrics}");
}

#[tokio::test]
async fn without_a_token_the_admin_api_stays_off() {
    let joule = Joule::with("tests/manifests/guests.toml")
        .env("JOULE_VARIABLE_API_TOKEN", "s3cret")
        .env("JOULE_ADMIN_TOKEN", "")
        .ready()
        .await;
    let (status, body) = joule.deploy("swap", guest_wasm("swap_v2")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("admin_api_disabled")), "{body}");
    assert_eq!(client().get(joule.url("/swap")).send().await.unwrap().text().await.unwrap(), "v1");
}
