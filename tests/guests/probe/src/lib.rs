//! Exercises the capabilities and the unit of work for the black-box tests.
//!
//! `POST /probe/items/:name?then=` inserts a row and then commits (`ok`), answers 500
//! (`fail`), traps (`trap`) or loops past its timeout (`loop`), so a test can see
//! which of them leave the row behind.

use joule_sdk::{db, kv, variables};
use serde_json::json;
use spin_sdk::http::{Params, Request, Response, Router};

fn query(request: &Request, name: &str) -> Option<String> {
    request.query().split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=').map(str::to_string))
}

fn json(status: u16, body: serde_json::Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

fn insert_item(request: Request, params: Params) -> Response {
    let name = params.get("name").unwrap_or_default();
    if let Err(e) = db::execute("INSERT INTO items (name) VALUES ($1)", &[&name]) {
        return json(409, json!({ "error": format!("{e:?}") }));
    }
    match query(&request, "then").as_deref() {
        Some("fail") => json(500, json!({ "error": "failing after the insert" })),
        Some("trap") => panic!("trapping after the insert"),
        Some("loop") => loop {
            std::hint::black_box(());
        },
        _ => json(201, json!({ "inserted": name })),
    }
}

fn list_items(_: Request, _: Params) -> Response {
    let names: Vec<String> = match db::query("SELECT name FROM items ORDER BY name", &[]) {
        Ok(rows) => rows.iter().map(|row| row.get("name").unwrap()).collect(),
        Err(e) => return json(500, json!({ "error": format!("{e:?}") })),
    };
    json(200, json!({ "items": names }))
}

fn kv_get(_: Request, params: Params) -> Response {
    match kv::get(params.get("key").unwrap_or_default()) {
        Ok(Some(value)) => Response::new(200, value),
        Ok(None) => json(404, json!({ "error": "no such key" })),
        Err(e) => json(400, json!({ "error": format!("{e:?}") })),
    }
}

fn kv_put(request: Request, params: Params) -> Response {
    let ttl = query(&request, "ttl").and_then(|t| t.parse().ok());
    match kv::set(params.get("key").unwrap_or_default(), request.body(), ttl) {
        Ok(()) => Response::new(204, ()),
        Err(e) => json(400, json!({ "error": format!("{e:?}") })),
    }
}

fn kv_delete(_: Request, params: Params) -> Response {
    match kv::delete(params.get("key").unwrap_or_default()) {
        Ok(existed) => json(200, json!({ "existed": existed })),
        Err(e) => json(400, json!({ "error": format!("{e:?}") })),
    }
}

fn kv_incr(request: Request, params: Params) -> Response {
    let by = query(&request, "by").and_then(|b| b.parse().ok()).unwrap_or(1);
    match kv::incr(params.get("key").unwrap_or_default(), by) {
        Ok(value) => json(200, json!({ "value": value })),
        Err(e) => json(409, json!({ "error": format!("{e:?}") })),
    }
}

fn variable(_: Request, params: Params) -> Response {
    match variables::get(params.get("name").unwrap_or_default()) {
        Ok(value) => json(200, json!({ "value": value })),
        Err(e) => json(404, json!({ "error": format!("{e:?}") })),
    }
}

fn headers(request: Request, _: Params) -> Response {
    let headers: serde_json::Map<String, serde_json::Value> = request
        .headers()
        .filter(|(name, _)| name.starts_with("spin-"))
        .map(|(name, value)| (name.to_string(), value.as_str().unwrap_or_default().into()))
        .collect();
    json(200, json!({ "headers": headers, "path": request.path(), "query": request.query() }))
}

fn sleep(request: Request, _: Params) -> Response {
    let ms = query(&request, "ms").and_then(|m| m.parse().ok()).unwrap_or(100);
    std::thread::sleep(std::time::Duration::from_millis(ms));
    json(200, json!({ "slept_ms": ms }))
}

fn echo(request: Request, _: Params) -> Response {
    json(200, json!({ "bytes": request.body().len() }))
}

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    // Routed here by `/params/:region/...`, to report the Spin headers it received.
    if request.path().starts_with("/params/") {
        return headers(request, Params::new());
    }
    let mut router = Router::new();
    router.post("/probe/items/:name", insert_item);
    router.get("/probe/items", list_items);
    router.get("/probe/kv/:key", kv_get);
    router.put("/probe/kv/:key", kv_put);
    router.delete("/probe/kv/:key", kv_delete);
    router.post("/probe/kv/:key/incr", kv_incr);
    router.get("/probe/vars/:name", variable);
    router.get("/probe/headers", headers);
    router.get("/probe/sleep", sleep);
    router.post("/probe/echo", echo);
    router.handle(request)
}
