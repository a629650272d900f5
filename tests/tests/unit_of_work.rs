//! Each invocation is one unit of work: its SQL commits when it succeeds and vanishes
//! when it answers 5xx, traps or times out.

use joule_tests::{Joule, client, read};
use serde_json::json;

async fn items(joule: &Joule) -> serde_json::Value {
    let (status, body) = read(client().get(joule.url("/probe/items")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body["items"].clone()
}

async fn insert(joule: &Joule, name: &str, then: &str) -> (u16, serde_json::Value) {
    read(client().post(joule.url(&format!("/probe/items/{name}?then={then}"))).send().await.unwrap()).await
}

#[tokio::test]
async fn commits_on_success_and_rolls_back_on_every_failure() {
    let joule = Joule::guests().await;

    assert_eq!(insert(&joule, "kept", "ok").await.0, 201);
    assert_eq!(items(&joule).await, json!(["kept"]));

    let (status, body) = insert(&joule, "failed", "fail").await;
    assert_eq!(status, 500, "the component's own 5xx is passed on: {body}");
    assert_eq!(body["error"], "failing after the insert");

    let (status, body) = insert(&joule, "trapped", "trap").await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["code"], "component_failed");

    let (status, body) = insert(&joule, "timed-out", "loop").await;
    assert_eq!(status, 504);
    assert_eq!(body["error"]["code"], "timeout");

    assert_eq!(items(&joule).await, json!(["kept"]), "only the successful invocation left a row");

    // A 4xx is the caller's problem, not a failure: the invocation still commits.
    let (status, _) = insert(&joule, "kept", "ok").await;
    assert_eq!(status, 409, "a duplicate is refused by the primary key");
    assert_eq!(insert(&joule, "after", "ok").await.0, 201, "the database is usable after each failure");
    assert_eq!(items(&joule).await, json!(["after", "kept"]));
}

#[tokio::test]
async fn concurrent_invocations_each_commit_their_own_work() {
    let joule = Joule::guests().await;
    let inserts: Vec<_> = (0..40)
        .map(|i| {
            let request = client().post(joule.url(&format!("/probe/items/item-{i:02}?then={}", if i % 4 == 0 { "fail" } else { "ok" })));
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    for (i, insert) in inserts.into_iter().enumerate() {
        assert_eq!(insert.await.unwrap(), if i % 4 == 0 { 500 } else { 201 });
    }
    let expected: Vec<String> = (0..40).filter(|i| i % 4 != 0).map(|i| format!("item-{i:02}")).collect();
    assert_eq!(items(&joule).await, json!(expected));
}
