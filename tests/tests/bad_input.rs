//! Bad input gets a clear 4xx with a JSON body naming the problem, and nothing stored is lost.

use joule_tests::{Joule, read, send_json};
use serde_json::{Value, json};

fn valid_station() -> Value {
    json!({
        "name": "Canal Charge",
        "location": { "lat": 52.36, "lng": 4.88 },
        "timeZone": "Europe/Amsterdam",
        "connectors": [{ "connectorId": "1", "type": "CCS2", "maxPowerKw": 50 }]
    })
}

fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

#[tokio::test]
async fn every_kind_of_bad_input_gets_its_error_and_nothing_is_lost() {
    let joule = Joule::platform().await;
    let http = joule.operator();
    let stations = joule.url("/api/v1/stations");
    let (status, stored) = send_json(http.post(&stations), &valid_station()).await;
    assert_eq!(status, 201);
    let station_url = joule.url(&format!("/api/v1/stations/{}", stored["id"].as_str().unwrap()));

    // Malformed JSON: 400.
    for body in ["{\"name\": ", "not json", ""] {
        let response =
            http.post(&stations).header("content-type", "application/json").body(body).send().await.unwrap();
        let (status, body) = read(response).await;
        assert_error(status, &body, 400, "malformed_json");
    }
    let response = http.patch(&station_url).header("content-type", "application/json").body("{").send().await.unwrap();
    let (status, body) = read(response).await;
    assert_error(status, &body, 400, "malformed_json");

    // Not JSON at all: 415.
    let response = http.post(&stations).header("content-type", "text/plain").body("hello").send().await.unwrap();
    let (status, body) = read(response).await;
    assert_error(status, &body, 415, "unsupported_media_type");

    // Well-formed but invalid: 422 naming each field.
    let mut invalid = valid_station();
    invalid["name"] = json!("  ");
    invalid["location"]["lng"] = json!(181);
    invalid["timeZone"] = json!("Europe/Atlantis");
    invalid["connectors"][0]["maxPowerKw"] = json!(-5);
    invalid["connectors"][0]["type"] = json!(7);
    invalid["colour"] = json!("green");
    let (status, body) = send_json(http.post(&stations), &invalid).await;
    assert_error(status, &body, 422, "validation_failed");
    let details = body["error"]["details"].as_object().unwrap();
    let mut fields: Vec<&str> = details.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["colour", "connectors[0].maxPowerKw", "connectors[0].type", "location.lng", "name", "timeZone"]
    );
    let (status, body) = send_json(http.patch(&station_url), &json!({ "location": { "lat": "north" } })).await;
    assert_error(status, &body, 422, "validation_failed");
    assert!(body["error"]["details"]["location.lat"].is_string(), "{body}");
    assert!(body["error"]["details"]["location.lng"].is_string(), "{body}");
    let (status, body) = send_json(http.post(&stations), &json!([valid_station()])).await;
    assert_error(status, &body, 422, "validation_failed");
    let (status, body) = read(http.get(joule.url("/api/v1/stations?limit=1000")).send().await.unwrap()).await;
    assert_error(status, &body, 422, "validation_failed");
    assert!(body["error"]["details"]["limit"].is_string());

    // Unknown ids: 404, whether or not they look like ids.
    for id in ["0190f0c4-0000-7000-8000-000000000000", "not-an-id"] {
        let (status, body) = read(http.get(joule.url(&format!("/api/v1/stations/{id}"))).send().await.unwrap()).await;
        assert_error(status, &body, 404, "not_found");
        let (status, body) = send_json(http.patch(joule.url(&format!("/api/v1/stations/{id}"))), &json!({})).await;
        assert_error(status, &body, 404, "not_found");
    }

    // Paths and methods that do not exist.
    let (status, body) = read(http.get(joule.url("/api/v1/stations/a/b/c")).send().await.unwrap()).await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = read(http.get(joule.url("/api/v2/stations")).send().await.unwrap()).await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = read(http.put(&stations).send().await.unwrap()).await;
    assert_error(status, &body, 405, "method_not_allowed");

    // Too large: 413 from the host, before the component runs.
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 << 20));
    let response = http.post(&stations).header("content-type", "application/json").body(huge).send().await.unwrap();
    let (status, body) = read(response).await;
    assert_error(status, &body, 413, "payload_too_large");

    // What was stored is exactly as it was, and the host still serves.
    let (status, fetched) = read(http.get(&station_url).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, stored);
    let (_, list) = read(http.get(&stations).send().await.unwrap()).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "no bad request stored anything");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused_too() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let joule = Joule::with("spin.toml").arg("--max-request-body").arg("1KiB").ready().await;
    let address = joule.url("").trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let chunk = "x".repeat(512);
    let mut request = format!(
        "POST /api/v1/stations HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    for _ in 0..4 {
        request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    request.push_str("0\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("payload_too_large"), "{response}");
}
