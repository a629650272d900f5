//! A trapping or runaway component fails its own request only.

use std::time::{Duration, Instant};

use joule_tests::{Joule, client, read, spawn_gets};

#[tokio::test]
async fn a_trap_fails_only_its_own_request() {
    let joule = Joule::guests().await;
    let traps = spawn_gets(&joule, "/trap", 8);
    let hellos = spawn_gets(&joule, "/hello", 32);
    for trap in traps {
        let (status, body) = read(trap.await.unwrap()).await;
        assert_eq!(status, 500);
        assert_eq!(body["error"]["code"], "component_failed");
    }
    for hello in hellos {
        let response = hello.await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "hello");
    }
    assert!(joule.logs().contains("always traps"), "the guest's panic is logged:\n{}", joule.logs());
}

#[tokio::test]
async fn a_runaway_loop_times_out_while_other_requests_are_served() {
    let joule = Joule::guests().await;
    let http = client();
    let started = Instant::now();
    // Two loops: more than one executor thread's worth of runaway guests.
    let runaways = spawn_gets(&joule, "/loop", 2);
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..20 {
        let asked = Instant::now();
        let response = http.get(joule.url("/hello")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        // The loops run for 2s; a hello stuck behind them would wait that long.
        assert!(asked.elapsed() < Duration::from_secs(1), "hello waited {:?}", asked.elapsed());
    }
    for runaway in runaways {
        let (status, body) = read(runaway.await.unwrap()).await;
        assert_eq!(status, 504);
        assert_eq!(body["error"]["code"], "timeout");
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(10), "{elapsed:?}");
    let response = http.get(joule.url("/hello")).send().await.unwrap();
    assert_eq!(response.status(), 200, "the host is still healthy");
}
