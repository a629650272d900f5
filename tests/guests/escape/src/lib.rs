//! Tries to reach beyond its grants, as a hostile component would.
//!
//! `POST /escape/sql` takes a JSON array of statements and runs them in order within one
//! invocation, stopping at the first error; `/escape/kv/:key` reads and writes keys.

use joule_sdk::{db, kv};
use serde_json::json;
use spin_sdk::http::{Params, Request, Response, Router};

fn json(status: u16, body: serde_json::Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

fn sql(request: Request, _: Params) -> Response {
    let Ok(statements) = serde_json::from_slice::<Vec<String>>(request.body()) else {
        return json(400, json!({ "error": "expected a JSON array of statements" }));
    };
    let mut results = Vec::new();
    for statement in &statements {
        match db::execute(statement, &[]) {
            Ok(changed) => results.push(json!({ "statement": statement, "changed": changed })),
            Err(error) => {
                results.push(json!({ "statement": statement, "error": format!("{error:?}") }));
                break;
            }
        }
    }
    json(200, json!({ "results": results }))
}

fn kv_get(_: Request, params: Params) -> Response {
    match kv::get(params.get("key").unwrap_or_default()) {
        Ok(Some(value)) => Response::new(200, value),
        Ok(None) => json(404, json!({ "error": "no such key" })),
        Err(error) => json(400, json!({ "error": format!("{error:?}") })),
    }
}

fn kv_put(request: Request, params: Params) -> Response {
    match kv::set(params.get("key").unwrap_or_default(), request.body(), None) {
        Ok(()) => Response::new(204, ()),
        Err(error) => json(400, json!({ "error": format!("{error:?}") })),
    }
}

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    let mut router = Router::new();
    router.post("/escape/sql", sql);
    router.get("/escape/kv/:key", kv_get);
    router.put("/escape/kv/:key", kv_put);
    router.handle(request)
}
