//! Replicas sharing one Postgres: a deploy on one is served by the other within a second,
//! and a replica that starts later loads the active versions. Embedded state belongs to
//! one process, so these run against the real services only.

use std::time::{Duration, Instant};

use joule_tests::admin::guest_wasm;
use joule_tests::{Joule, State, client, real_backends};

async fn body(joule: &Joule) -> String {
    client().get(joule.url("/swap")).send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn a_deploy_on_one_replica_reaches_the_other_within_a_second() {
    if !real_backends() {
        eprintln!("replicas share Postgres; this runs in the pass against the real services");
        return;
    }
    let state = State::new();
    let replica_state = state.replica();
    let later_state = state.replica();
    let a = Joule::with("tests/manifests/guests.toml").env("JOULE_VARIABLE_API_TOKEN", "s3cret").state(&state).ready().await;
    let b = Joule::with("tests/manifests/guests.toml")
        .env("JOULE_VARIABLE_API_TOKEN", "s3cret")
        .state(&replica_state)
        .ready()
        .await;
    assert_eq!(body(&b).await, "v1");

    for (wasm, expected) in [("swap_v2", "v2"), ("swap_v1", "v1"), ("swap_v2", "v2")] {
        let (status, deployed) = a.deploy("swap", guest_wasm(wasm)).await;
        assert_eq!(status, 201, "{deployed}");
        let returned = Instant::now();
        while body(&b).await != expected {
            assert!(returned.elapsed() < Duration::from_secs(1), "replica B still serves the old version after 1s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let later = Joule::with("tests/manifests/guests.toml")
        .env("JOULE_VARIABLE_API_TOKEN", "s3cret")
        .state(&later_state)
        .ready()
        .await;
    assert_eq!(body(&later).await, "v2", "a replica started later loads the active version, not its manifest's file");

    let (status, rolled) = b.rollback("swap", None).await;
    assert_eq!((status, &rolled["version"]), (200, &3.into()), "{rolled}");
    let returned = Instant::now();
    while body(&a).await != "v1" || body(&later).await != "v1" {
        assert!(returned.elapsed() < Duration::from_secs(1), "a replica missed B's rollback");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
