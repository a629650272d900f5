//! Backend selection: services named by URL, replicas sharing them, and readiness that
//! follows the backends. The embedded run has no services to share or lose, so these
//! tests only run against Postgres and Redis.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use joule_tests::{Joule, Proxy, Services, State, client, read, send_json};
use serde_json::json;

#[tokio::test]
async fn two_replicas_starting_at_once_share_one_database() {
    if Services::from_env().is_none() {
        return;
    }
    let state = State::new();
    let replica = state.replica();
    let (first, second) = tokio::join!(
        Joule::with("spin.toml").state(&state).ready(),
        Joule::with("spin.toml").state(&replica).ready()
    );
    let station = json!({ "name": "Shared", "location": { "lat": 1, "lng": 2 }, "timeZone": "UTC",
                          "connectors": [{ "connectorId": "1", "type": "CCS2", "maxPowerKw": 50 }] });
    let (status, created) = send_json(first.operator().post(first.url("/api/v1/stations")), &station).await;
    assert_eq!(status, 201);
    let url = second.url(&format!("/api/v1/stations/{}", created["id"].as_str().unwrap()));
    let (status, fetched) = read(second.operator().get(url).send().await.unwrap()).await;
    assert_eq!((status, fetched), (200, created), "the second replica sees what the first stored");
}

#[tokio::test]
async fn an_unreachable_backend_stops_startup_and_never_falls_back() {
    if Services::from_env().is_none() {
        return;
    }
    let (status, stderr) = Joule::with("spin.toml").env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nowhere").fails();
    assert!(!status.success());
    assert!(stderr.contains("DATABASE_URL") && stderr.contains("127.0.0.1:1"), "{stderr}");
    let (status, stderr) = Joule::with("spin.toml").env("REDIS_URL", "redis://127.0.0.1:1").fails();
    assert!(!status.success());
    assert!(stderr.contains("REDIS_URL") && stderr.contains("127.0.0.1:1"), "{stderr}");
}

async fn wait_for_ready(joule: &Joule, expected: u16) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let (status, body) = read(client().get(joule.url("/health/ready")).send().await.unwrap()).await;
        if status == expected {
            return body;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "readiness stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn address(url: &str) -> SocketAddr {
    let authority = url.split_once("://").unwrap().1.split(['/', '?']).next().unwrap();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = if host_port.contains(':') { host_port.to_string() } else { format!("{host_port}:5432") };
    host_port.replace("localhost", "127.0.0.1").parse().unwrap()
}

#[tokio::test]
async fn readiness_follows_the_backends() {
    let Some(services) = Services::from_env() else { return };
    let state = State::new();
    let database_url = state.database_url().unwrap();
    let database = Proxy::start(address(&database_url)).await;
    let redis = Proxy::start(address(&services.redis_url)).await;
    let proxied_database =
        database_url.replacen(&address(&database_url).to_string(), &database.address().to_string(), 1);
    let joule = Joule::with("spin.toml")
        .state(&state)
        .env("DATABASE_URL", &proxied_database)
        .env("REDIS_URL", &format!("redis://{}", redis.address()))
        .ready()
        .await;

    database.cut().await;
    let body = wait_for_ready(&joule, 503).await;
    assert!(body["reason"].as_str().unwrap().contains("postgres"), "{body}");
    database.restore().await;
    wait_for_ready(&joule, 200).await;

    redis.cut().await;
    let body = wait_for_ready(&joule, 503).await;
    assert!(body["reason"].as_str().unwrap().contains("redis"), "{body}");
    redis.restore().await;
    wait_for_ready(&joule, 200).await;
}
