//! Publishes events from HTTP requests, for the event tests.
//!
//! `POST /publisher/events` takes `{"type", "count", "data", "id"?, "fail"?}`: it inserts a
//! row and publishes `count` events, each with `data` plus its `index`; with `"fail": true`
//! it then answers 500, so neither the row nor the events may survive.

use joule_sdk::events::{self, PublishOptions};
use joule_sdk::db;
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response, Router};

fn json(status: u16, body: Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

fn publish(request: Request, _: Params) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(request.body()) else {
        return json(400, json!({ "error": "expected JSON" }));
    };
    let event_type = body["type"].as_str().unwrap_or("test.event.v1");
    let count = body["count"].as_u64().unwrap_or(1);
    if let Err(e) = db::execute("INSERT INTO rows (label) VALUES ($1)", &[&event_type]) {
        return json(500, json!({ "error": format!("{e:?}") }));
    }
    let mut ids = Vec::new();
    for index in 0..count {
        let mut data = body["data"].clone();
        if data.is_null() {
            data = json!({});
        }
        data["index"] = json!(index);
        let options = PublishOptions { id: body["id"].as_str().map(str::to_string), correlation_id: None };
        match events::publish_with(event_type, &data, options) {
            Ok(id) => ids.push(id),
            Err(e) => return json(422, json!({ "error": format!("{e:?}") })),
        }
    }
    if body["fail"].as_bool() == Some(true) {
        return json(500, json!({ "error": "failing after publishing", "ids": ids }));
    }
    json(201, json!({ "ids": ids }))
}

fn rows(_: Request, _: Params) -> Response {
    match db::query("SELECT count(*) AS n FROM rows", &[]) {
        Ok(rows) => json(200, json!({ "rows": rows.first().and_then(|r| r.get::<i64>("n").ok()) })),
        Err(e) => json(500, json!({ "error": format!("{e:?}") })),
    }
}

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    let mut router = Router::new();
    router.post("/publisher/events", publish);
    router.get("/publisher/rows", rows);
    router.handle(request)
}
