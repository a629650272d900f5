//! Per-component limits: a component past its memory or concurrency limit gets a 503 with
//! Retry-After, while other components' requests go on being served.

use joule_tests::{Joule, client, read, spawn_gets};

async fn all_hello(hellos: Vec<tokio::task::JoinHandle<reqwest::Response>>) {
    for hello in hellos {
        let response = hello.await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "hello");
    }
}

#[tokio::test]
async fn a_memory_bomb_hits_its_limit_and_others_are_served() {
    let joule = Joule::guests().await;
    let bombs = spawn_gets(&joule, "/memory-bomb", 4);
    let hellos = spawn_gets(&joule, "/hello", 32);
    for bomb in bombs {
        let response = bomb.await.unwrap();
        assert_eq!(response.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
        let (status, body) = read(response).await;
        assert_eq!((status, body["error"]["code"].as_str()), (503, Some("out_of_memory")), "{body}");
    }
    all_hello(hellos).await;
    assert!(joule.logs().contains("exceeded its memory limit"), "the failure is logged:\n{}", joule.logs());
}

#[tokio::test]
async fn requests_past_a_components_concurrency_limit_are_turned_away() {
    let joule = Joule::guests().await;
    // The limit is 2 and each request takes 500 ms: of 6 at once, 2 run and 4 are refused.
    let slow = spawn_gets(&joule, "/slow", 6);
    let hellos = spawn_gets(&joule, "/hello", 32);
    let (mut done, mut refused) = (0, 0);
    for request in slow {
        let response = request.await.unwrap();
        match response.status().as_u16() {
            200 => done += 1,
            503 => {
                assert_eq!(response.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
                let (_, body) = read(response).await;
                assert_eq!(body["error"]["code"], "overloaded", "{body}");
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((done, refused), (2, 4));
    all_hello(hellos).await;
    let response = client().get(joule.url("/slow")).send().await.unwrap();
    assert_eq!(response.status(), 200, "the limit frees up once requests finish");
}

#[tokio::test]
async fn a_fuel_limit_on_one_component_leaves_the_others_unmetered() {
    let joule = Joule::with("tests/manifests/fuel.toml").ready().await;
    let response = client().get(joule.url("/loop")).send().await.unwrap();
    assert_eq!(response.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
    let (status, body) = read(response).await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("out_of_fuel")), "{body}");
    all_hello(spawn_gets(&joule, "/hello", 8)).await;
}
