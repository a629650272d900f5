//! The accounts component against the real platform: profiles made on first use, vehicles and
//! charging tokens that belong to one account, the operators' view, and events that carry no
//! contact details.

use std::str::FromStr as _;

use chrono::{Duration, Utc};
use joule_tests::{Joule, State, client, read, send_json};
use serde_json::{Value, json};
use sqlx::{ConnectOptions as _, Row as _};

/// One caller of the API: a host and a token.
struct As<'a> {
    joule: &'a Joule,
    token: String,
}

impl<'a> As<'a> {
    fn driver(joule: &'a Joule, subject: &str) -> Self {
        Self { joule, token: joule.token(subject, &["driver"]) }
    }

    fn operator(joule: &'a Joule, subject: &str) -> Self {
        Self { joule, token: joule.token(subject, &["operator"]) }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        client().request(method, self.joule.url(path)).bearer_auth(&self.token)
    }

    fn json(&self, method: reqwest::Method, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.request(method, path).header("content-type", "application/json").body(body.to_string())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        read(self.request(reqwest::Method::GET, path).send().await.unwrap()).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        read(self.request(reqwest::Method::DELETE, path).send().await.unwrap()).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        send_json(self.request(method, path), body).await
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, body).await
    }

    async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, body).await
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn zoe(regnum: &str) -> Value {
    json!({ "make": "Renault", "model": "Zoe", "regnum": regnum, "connectorTypes": ["Type2", "CCS2"], "batteryKwh": 52 })
}

#[tokio::test]
async fn a_profile_is_made_on_first_use_and_changed_by_its_owner() {
    let joule = Joule::platform().await;
    let ada = As::driver(&joule, "ada");

    let (status, profile) = ada.get("/api/v1/me").await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["subject"], "ada");
    for empty in ["displayName", "email", "phone", "locale"] {
        assert_eq!(profile[empty], Value::Null, "{empty}: {profile}");
    }
    assert_eq!(profile["notificationPreferences"], json!({ "email": true, "webhook": true, "log": true }));
    assert_eq!(ada.get("/api/v1/me").await.1, profile, "the second request finds the same profile");

    // Simultaneous first requests of one subject all get the one profile.
    let bob = As::driver(&joule, "bob");
    let firsts: Vec<_> = (0..8).map(|_| tokio::spawn(bob.request(reqwest::Method::GET, "/api/v1/me").send())).collect();
    for first in firsts {
        let (status, body) = read(first.await.unwrap().unwrap()).await;
        assert_eq!((status, body["subject"].as_str()), (200, Some("bob")), "{body}");
    }

    let change = json!({
        "displayName": "Ada Lovelace", "email": "ada@example.com", "phone": "+31201234567",
        "locale": "en-gb", "notificationPreferences": { "webhook": false }
    });
    let (status, changed) = ada.patch("/api/v1/me", &change).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["locale"], "en-GB", "kept in the canonical case");
    assert_eq!(changed["notificationPreferences"], json!({ "email": true, "webhook": false, "log": true }));
    assert!(changed["updatedAt"].as_str() > profile["updatedAt"].as_str(), "{changed}");
    assert_eq!(ada.get("/api/v1/me").await.1, changed);

    let (status, cleared) = ada.patch("/api/v1/me", &json!({ "phone": null })).await;
    assert_eq!(
        (status, &cleared["phone"], &cleared["email"]),
        (200, &Value::Null, &json!("ada@example.com")),
        "{cleared}"
    );

    let bad = json!({ "email": "ada.example.com", "phone": "020 123 4567", "locale": "English", "nickname": "a" });
    let (status, refused) = ada.patch("/api/v1/me", &bad).await;
    assert_eq!((status, code(&refused)), (422, "validation_failed"), "{refused}");
    let details = &refused["error"]["details"];
    for field in ["email", "phone", "locale", "nickname"] {
        assert!(details[field].is_string(), "{field} not named: {refused}");
    }
    assert_eq!(ada.get("/api/v1/me").await.1, cleared, "a refused change changes nothing");
}

#[tokio::test]
async fn only_drivers_and_operators_have_a_profile() {
    let joule = Joule::platform().await;
    let (status, body) = read(client().get(joule.url("/api/v1/me")).send().await.unwrap()).await;
    assert_eq!((status, code(&body)), (401, "unauthorized"), "{body}");
    let guest = As { joule: &joule, token: joule.token("guest-1", &["guest"]) };
    assert_eq!(guest.get("/api/v1/me").await.0, 403);
    let (status, body) = As::operator(&joule, "ops").get("/api/v1/me").await;
    assert_eq!((status, body["subject"].as_str()), (200, Some("ops")), "an operator has a profile too: {body}");
}

#[tokio::test]
async fn vehicles_belong_to_one_account_and_plates_are_unique_within_it() {
    let joule = Joule::platform().await;
    let ada = As::driver(&joule, "ada");
    let bob = As::driver(&joule, "bob");

    let response = ada.json(reqwest::Method::POST, "/api/v1/me/vehicles", &zoe("ab-12 cd")).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let (_, vehicle) = read(response).await;
    let id = vehicle["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/me/vehicles/{id}"));
    assert_eq!(vehicle["regnum"], "AB12CD", "plates are kept in one form");
    assert_eq!(vehicle["connectorTypes"], json!(["Type2", "CCS2"]));
    assert_eq!(vehicle["batteryKwh"], 52.0);
    assert_eq!(ada.get(&location).await, (200, vehicle.clone()));

    let (status, body) = ada.post("/api/v1/me/vehicles", &zoe("AB 12-CD")).await;
    assert_eq!((status, code(&body)), (409, "regnum_taken"), "{body}");
    let (status, body) = bob.post("/api/v1/me/vehicles", &zoe("AB12CD")).await;
    assert_eq!(status, 201, "another account may have the same plate: {body}");
    let (status, body) =
        ada.post("/api/v1/me/vehicles", &json!({ "make": "Kia", "regnum": "X_1", "connectorTypes": ["Plug"] })).await;
    assert_eq!(status, 422, "{body}");
    for field in ["model", "regnum", "connectorTypes"] {
        assert!(body["error"]["details"][field].is_string(), "{field} not named: {body}");
    }

    let (status, second) = ada.post("/api/v1/me/vehicles", &zoe("XY-99-ZZ")).await;
    assert_eq!(status, 201, "{second}");
    let second_path = format!("/api/v1/me/vehicles/{}", second["id"].as_str().unwrap());
    let (status, body) = ada.patch(&second_path, &json!({ "regnum": "ab12cd" })).await;
    assert_eq!((status, code(&body)), (409, "regnum_taken"), "{body}");
    let (status, changed) = ada.patch(&second_path, &json!({ "model": "Zoe E-Tech", "batteryKwh": null })).await;
    assert_eq!(
        (status, &changed["model"], &changed["batteryKwh"]),
        (200, &json!("Zoe E-Tech"), &Value::Null),
        "{changed}"
    );

    let (status, listed) = ada.get("/api/v1/me/vehicles").await;
    assert_eq!(status, 200);
    let plates: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|v| v["regnum"].as_str().unwrap()).collect();
    assert_eq!(plates, ["AB12CD", "XY99ZZ"], "oldest first: {listed}");
    assert_eq!(bob.get("/api/v1/me/vehicles").await.1["items"].as_array().unwrap().len(), 1);

    // Another account's vehicle is not found, as an unknown id is not.
    assert_eq!(bob.get(&location).await.0, 404);
    assert_eq!(bob.patch(&location, &json!({ "model": "Mine" })).await.0, 404);
    assert_eq!(bob.delete(&location).await.0, 404);
    assert_eq!(ada.get("/api/v1/me/vehicles/not-a-uuid").await.0, 404);

    assert_eq!(ada.delete(&location).await.0, 204);
    assert_eq!(ada.get(&location).await.0, 404);
    assert_eq!(ada.post("/api/v1/me/vehicles", &zoe("AB12CD")).await.0, 201, "a removed vehicle's plate is free again");
}

#[tokio::test]
async fn a_token_uid_belongs_to_one_account() {
    let joule = Joule::platform().await;
    let ada = As::driver(&joule, "ada");
    let bob = As::driver(&joule, "bob");

    let response = ada
        .json(reqwest::Method::POST, "/api/v1/me/tokens", &json!({ "type": "RFID", "uid": "04a2b3c4" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["location"], "/api/v1/me/tokens/04A2B3C4");
    let (_, card) = read(response).await;
    assert_eq!(
        (card["uid"].as_str(), card["type"].as_str(), card["status"].as_str()),
        (Some("04A2B3C4"), Some("RFID"), Some("ACTIVE"))
    );
    assert_eq!(card["expiresAt"], Value::Null);

    let (status, app) = ada.post("/api/v1/me/tokens", &json!({ "type": "APP" })).await;
    assert_eq!(status, 201, "{app}");
    let made = app["uid"].as_str().unwrap();
    assert_eq!(made.len(), 36, "the platform makes an app token's uid: {app}");

    let (status, body) = bob.post("/api/v1/me/tokens", &json!({ "type": "RFID", "uid": "04A2b3C4" })).await;
    assert_eq!((status, code(&body)), (409, "token_taken"), "{body}");
    let (status, body) = ada.post("/api/v1/me/tokens", &json!({ "type": "RFID" })).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["details"]["uid"].is_string(), "{body}");
    let (status, body) = ada
        .post("/api/v1/me/tokens", &json!({ "type": "RFID", "uid": "04 A2", "expiresAt": "2001-01-01T00:00:00Z" }))
        .await;
    assert_eq!(status, 422, "{body}");
    for field in ["uid", "expiresAt"] {
        assert!(body["error"]["details"][field].is_string(), "{field} not named: {body}");
    }

    let (status, listed) = ada.get("/api/v1/me/tokens").await;
    assert_eq!(status, 200);
    let uids: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|t| t["uid"].as_str().unwrap()).collect();
    assert_eq!(uids, ["04A2B3C4", made], "{listed}");
    assert!(bob.get("/api/v1/me/tokens").await.1["items"].as_array().unwrap().is_empty());

    assert_eq!(bob.delete("/api/v1/me/tokens/04A2B3C4").await.0, 404, "another account's token is not found");
    assert_eq!(bob.get("/api/v1/me/tokens/04a2b3c4").await.0, 404);
    assert_eq!(ada.get("/api/v1/me/tokens/04a2b3c4").await, (200, card.clone()), "uids compare without case");
    assert_eq!(ada.delete("/api/v1/me/tokens/04a2b3c4").await.0, 204);
    assert_eq!(ada.get("/api/v1/me/tokens/04A2B3C4").await.0, 404);
    assert_eq!(
        bob.post("/api/v1/me/tokens", &json!({ "type": "RFID", "uid": "04A2B3C4" })).await.0,
        201,
        "a revoked uid is free"
    );

    // Two accounts registering one card at once: one gets it.
    let carol = As::driver(&joule, "carol");
    let card = json!({ "type": "RFID", "uid": "CAFE0001" });
    let (first, second) = tokio::join!(ada.post("/api/v1/me/tokens", &card), carol.post("/api/v1/me/tokens", &card));
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{first:?} {second:?}");

    // A token past its expiry shows EXPIRED.
    let soon = (Utc::now() + Duration::seconds(3)).to_rfc3339();
    let (status, expiring) = ada.post("/api/v1/me/tokens", &json!({ "type": "APP", "expiresAt": soon })).await;
    assert_eq!((status, expiring["status"].as_str()), (201, Some("ACTIVE")), "{expiring}");
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let (_, expired) = ada.get(&format!("/api/v1/me/tokens/{}", expiring["uid"].as_str().unwrap())).await;
    assert_eq!(expired["status"], "EXPIRED", "{expired}");
}

#[tokio::test]
async fn operators_see_every_account_and_block_tokens() {
    let joule = Joule::platform().await;
    let ops = As::operator(&joule, "ops");
    let ada = As::driver(&joule, "auth0|ada");
    let bob = As::driver(&joule, "bob");
    assert_eq!(ada.patch("/api/v1/me", &json!({ "displayName": "Ada" })).await.0, 200);
    assert_eq!(ada.post("/api/v1/me/vehicles", &zoe("AB12CD")).await.0, 201);
    assert_eq!(ada.post("/api/v1/me/tokens", &json!({ "type": "RFID", "uid": "04A2B3C4" })).await.0, 201);
    assert_eq!(bob.get("/api/v1/me").await.0, 200);

    // Drivers and anonymous callers are refused.
    for path in ["/api/v1/accounts", "/api/v1/accounts/bob"] {
        let (status, body) = bob.get(path).await;
        assert_eq!((status, code(&body)), (403, "forbidden"), "{path}: {body}");
        assert_eq!(read(client().get(joule.url(path)).send().await.unwrap()).await.0, 401, "{path}");
    }
    let status_path = "/api/v1/accounts/auth0%7Cada/tokens/04A2B3C4/status";
    assert_eq!(bob.put(status_path, &json!({ "status": "BLOCKED" })).await.0, 403);

    // A page at a time, in the order accounts were first used.
    let (status, first) = ops.get("/api/v1/accounts?limit=1").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["items"][0]["subject"], "auth0|ada");
    let cursor = first["nextCursor"].as_str().expect("another page");
    let (_, second) = ops.get(&format!("/api/v1/accounts?limit=1&cursor={cursor}")).await;
    assert_eq!(second["items"][0]["subject"], "bob", "{second}");
    let (_, found) = ops.get("/api/v1/accounts?tokenUid=04a2b3c4").await;
    let subjects: Vec<&str> =
        found["items"].as_array().unwrap().iter().map(|a| a["subject"].as_str().unwrap()).collect();
    assert_eq!((subjects, &found["nextCursor"]), (vec!["auth0|ada"], &Value::Null), "{found}");
    assert!(ops.get("/api/v1/accounts?tokenUid=UNKNOWN").await.1["items"].as_array().unwrap().is_empty());
    let (status, body) = ops.get("/api/v1/accounts?tokenUid=not%20a%20uid").await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["details"]["tokenUid"].is_string(), "{body}");

    let (status, account) = ops.get("/api/v1/accounts/auth0%7Cada").await;
    assert_eq!(status, 200, "{account}");
    assert_eq!((account["subject"].as_str(), account["displayName"].as_str()), (Some("auth0|ada"), Some("Ada")));
    assert_eq!(account["vehicles"][0]["regnum"], "AB12CD");
    assert_eq!(account["tokens"][0]["uid"], "04A2B3C4");
    assert_eq!(ops.get("/api/v1/accounts/nobody").await.0, 404);

    let (status, blocked) = ops.put(status_path, &json!({ "status": "BLOCKED" })).await;
    assert_eq!((status, blocked["status"].as_str()), (200, Some("BLOCKED")), "{blocked}");
    assert_eq!(ada.get("/api/v1/me/tokens/04A2B3C4").await.1["status"], "BLOCKED", "the driver sees it blocked");
    assert_eq!(
        ops.put("/api/v1/accounts/bob/tokens/04A2B3C4/status", &json!({ "status": "ACTIVE" })).await.0,
        404,
        "bob holds no such token"
    );
    let (status, body) = ops.put(status_path, &json!({ "status": "EXPIRED" })).await;
    assert_eq!(status, 422, "expiry follows from expiresAt alone: {body}");
    let (status, active) = ops.put(status_path, &json!({ "status": "ACTIVE" })).await;
    assert_eq!((status, active["status"].as_str()), (200, Some("ACTIVE")), "{active}");
}

/// The events of the accounts component, read from the outbox of a host that relays none.
async fn published(state: &State) -> Vec<(String, Value)> {
    let rows = match state.database_url() {
        Some(url) => {
            let mut connection = sqlx::postgres::PgConnectOptions::from_str(&url).unwrap().connect().await.unwrap();
            sqlx::query("SELECT type, data::text AS data FROM joule.outbox ORDER BY seq")
                .fetch_all(&mut connection)
                .await
                .unwrap()
                .iter()
                .map(|row| (row.get::<String, _>("type"), row.get::<String, _>("data")))
                .collect::<Vec<_>>()
        }
        None => {
            let path = state.path().join("joule/databases/accounts.db");
            let options =
                sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display())).unwrap();
            let mut connection = options.read_only(true).connect().await.unwrap();
            sqlx::query("SELECT type, data FROM _joule_outbox ORDER BY seq")
                .fetch_all(&mut connection)
                .await
                .unwrap()
                .iter()
                .map(|row| (row.get::<String, _>("type"), row.get::<String, _>("data")))
                .collect()
        }
    };
    rows.into_iter().map(|(kind, data)| (kind, serde_json::from_str(&data).unwrap())).collect()
}

#[tokio::test]
async fn events_name_the_account_but_carry_no_contact_details() {
    let state = State::new();
    let joule = Joule::with("spin.toml").state(&state).arg("--no-relay").ready().await;
    let ada = As::driver(&joule, "ada");
    let ops = As::operator(&joule, "ops");

    let contact = json!({ "email": "ada@example.com", "phone": "+31201234567", "locale": "en" });
    assert_eq!(ada.patch("/api/v1/me", &contact).await.0, 200);
    assert_eq!(ada.patch("/api/v1/me", &contact).await.0, 200, "the same values again change nothing");
    let (_, vehicle) = ada.post("/api/v1/me/vehicles", &zoe("ab-12-cd")).await;
    let vehicle_path = format!("/api/v1/me/vehicles/{}", vehicle["id"].as_str().unwrap());
    assert_eq!(ada.patch(&vehicle_path, &json!({ "regnum": "AB13CD" })).await.0, 200);
    assert_eq!(ada.delete(&vehicle_path).await.0, 204);
    assert_eq!(ada.post("/api/v1/me/tokens", &json!({ "type": "RFID", "uid": "04A2B3C4" })).await.0, 201);
    assert_eq!(ops.put("/api/v1/accounts/ada/tokens/04A2B3C4/status", &json!({ "status": "BLOCKED" })).await.0, 200);
    assert_eq!(ada.delete("/api/v1/me/tokens/04A2B3C4").await.0, 204);

    let events = published(&state).await;
    let types: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        types,
        [
            "account.updated.v1",
            "vehicle.registered.v1",
            "vehicle.updated.v1",
            "vehicle.removed.v1",
            "token.issued.v1",
            "token.status-changed.v1",
            "token.revoked.v1"
        ]
    );
    for (kind, data) in &events {
        let text = data.to_string();
        assert!(
            !text.contains("ada@example.com") && !text.contains("31201234567"),
            "{kind} carries contact details: {text}"
        );
        assert_eq!(data["subject"], "ada", "{kind}: {text}");
    }
    let data = |kind: &str| &events.iter().find(|(k, _)| k == kind).unwrap().1;
    let updated = data("account.updated.v1");
    assert_eq!(updated["changed"], json!(["email", "phone", "locale"]));
    assert_eq!(updated.as_object().unwrap().len(), 3, "subject, changed and updatedAt only: {updated}");
    assert_eq!(data("vehicle.registered.v1")["regnum"], "AB12CD");
    assert_eq!(data("vehicle.registered.v1")["vehicleId"], vehicle["id"]);
    assert_eq!(data("vehicle.removed.v1")["regnum"], "AB13CD");
    let issued = data("token.issued.v1");
    assert_eq!(
        (issued["uid"].as_str(), issued["type"].as_str(), issued["status"].as_str()),
        (Some("04A2B3C4"), Some("RFID"), Some("ACTIVE"))
    );
    let changed = data("token.status-changed.v1");
    assert_eq!(
        (changed["status"].as_str(), changed["previousStatus"].as_str()),
        (Some("BLOCKED"), Some("ACTIVE")),
        "{changed}"
    );
    assert_eq!(data("token.revoked.v1"), &json!({ "subject": "ada", "uid": "04A2B3C4" }));
}
