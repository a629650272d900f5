//! The stations API, served by the EV platform's own spin.toml on the embedded backends.

use joule_tests::{Joule, State, read, send_json};
use serde_json::{Value, json};

fn station(name: &str) -> Value {
    json!({
        "name": name,
        "location": { "lat": 52.3702, "lng": 4.8952 },
        "address": "Piet Heinkade 1, Amsterdam",
        "timeZone": "Europe/Amsterdam",
        "tariffId": "tariff-ac-standard",
        "connectors": [
            { "connectorId": "1", "type": "CCS2", "maxPowerKw": 150 },
            { "connectorId": "2", "type": "Type2", "maxPowerKw": 22 }
        ]
    })
}

async fn create(joule: &Joule, name: &str) -> Value {
    let (status, body) = send_json(joule.operator().post(joule.url("/api/v1/stations")), &station(name)).await;
    assert_eq!(status, 201, "{body}");
    body
}

#[tokio::test]
async fn create_read_update_and_delete_a_station() {
    let joule = Joule::platform().await;
    let http = joule.operator();

    let response = http
        .post(joule.url("/api/v1/stations"))
        .header("content-type", "application/json")
        .body(station("Harbour Hub").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let (_, created) = read(response).await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/stations/{id}"));
    assert_eq!(created["name"], "Harbour Hub");
    assert_eq!(created["timeZone"], "Europe/Amsterdam");
    assert_eq!(created["connectors"][0]["status"], "Available");
    assert_eq!(created["connectors"][1]["maxPowerKw"], 22.0);

    let (status, fetched) = read(http.get(joule.url(&location)).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, created);

    let patch = json!({ "name": "Harbour Hub North", "address": null,
                        "connectors": [{ "connectorId": "2", "type": "Type2", "maxPowerKw": 11 },
                                       { "connectorId": "3", "type": "CHAdeMO", "maxPowerKw": 50 }] });
    let (status, _) = send_json(
        http.put(joule.url(&format!("{location}/connectors/2/status"))),
        &json!({ "status": "Charging" }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, updated) = send_json(http.patch(joule.url(&location)), &patch).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], "Harbour Hub North");
    assert_eq!(updated["address"], Value::Null);
    assert_eq!(updated["tariffId"], "tariff-ac-standard", "fields not in the patch stay");
    let connectors = updated["connectors"].as_array().unwrap();
    assert_eq!(connectors.len(), 2);
    assert_eq!(connectors[0]["status"], "Charging", "a connector that stays keeps its status");
    assert_eq!(connectors[0]["maxPowerKw"], 11.0);
    assert_eq!(connectors[1]["status"], "Available");
    let (_, fetched) = read(http.get(joule.url(&location)).send().await.unwrap()).await;
    assert_eq!(fetched, updated);

    let response = http.delete(joule.url(&location)).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let (status, body) = read(http.get(joule.url(&location)).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let response = http.delete(joule.url(&location)).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn connector_status_changes() {
    let joule = Joule::platform().await;
    let created = create(&joule, "Depot").await;
    let id = created["id"].as_str().unwrap();
    for status in ["Reserved", "Charging", "Faulted", "Unavailable", "Available"] {
        let url = joule.url(&format!("/api/v1/stations/{id}/connectors/1/status"));
        let (code, connector) = send_json(joule.operator().put(url), &json!({ "status": status })).await;
        assert_eq!(code, 200, "{connector}");
        // Set by hand: no charge point said anything, so `ocppStatus` stays null.
        let expected = json!({ "connectorId": "1", "type": "CCS2", "maxPowerKw": 150.0, "status": status, "ocppStatus": null });
        assert_eq!(connector, expected);
    }
    let url = joule.url(&format!("/api/v1/stations/{id}/connectors/9/status"));
    let (code, body) = send_json(joule.operator().put(url), &json!({ "status": "Charging" })).await;
    assert_eq!(code, 404);
    assert!(body["error"]["message"].as_str().unwrap().contains("connector"));
    let url = joule.url(&format!("/api/v1/stations/{id}/connectors/1/status"));
    let (code, body) = send_json(joule.operator().put(url), &json!({ "status": "Exploded" })).await;
    assert_eq!(code, 422);
    assert!(body["error"]["details"]["status"].is_string());
}

#[tokio::test]
async fn listing_pages_through_every_station_once() {
    let joule = Joule::platform().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(create(&joule, &format!("Station {i}")).await["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("?limit=3&cursor={cursor}"),
            None => "?limit=3".to_string(),
        };
        let (status, page) = read(joule.operator().get(joule.url(&format!("/api/v1/stations{query}"))).send().await.unwrap()).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|s| s["id"].as_str().unwrap().to_string()));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, created, "every station once, in creation order");
    let (_, page) = read(joule.operator().get(joule.url("/api/v1/stations")).send().await.unwrap()).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 7, "the default limit covers them all");
    assert_eq!(page["nextCursor"], Value::Null);
}

#[tokio::test]
async fn stations_survive_a_restart() {
    let state = State::new();
    let joule = Joule::with("spin.toml").state(&state).ready().await;
    let created = create(&joule, "Persistent").await;
    joule.stop().await;

    let joule = Joule::with("spin.toml").state(&state).ready().await;
    let url = joule.url(&format!("/api/v1/stations/{}", created["id"].as_str().unwrap()));
    let (status, fetched) = read(joule.operator().get(url).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, created);
    assert!(joule.logs().contains("cached=true"), "the restart reused the compiled component:\n{}", joule.logs());
}
