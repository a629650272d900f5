//! Handles test events and reports what it handled.
//!
//! The event's `behavior` decides: `fail-twice` fails with a retryable error before its
//! third attempt, `fail-always` on every attempt, `permanent` fails permanently, and
//! anything else records the run. Every
//! attempt is counted in the key-value store, which is outside the unit of work.

use joule_sdk::events::{Event, Handler, HandlerError};
use joule_sdk::{db, kv};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response, Router};

struct Recorder;

impl Handler for Recorder {
    fn handle(event: Event) -> Result<(), HandlerError> {
        let _ = kv::incr(&format!("attempts:{}", event.id), 1);
        let data: Value = event.data_as()?;
        match data["behavior"].as_str() {
            Some("fail-twice") if event.attempt < 3 => {
                return Err(HandlerError::Retryable(format!("failing attempt {}", event.attempt)));
            }
            Some("permanent") => return Err(HandlerError::Permanent("refusing this event".into())),
            Some("fail-always") => return Err(HandlerError::Retryable(format!("failing attempt {}", event.attempt))),
            _ => {}
        }
        db::execute(
            "INSERT INTO runs (event_id, event_type, source, attempt, correlation_id, traceparent)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&event.id, &event.event_type, &event.source, &event.attempt, &event.correlation_id, &event.traceparent],
        )
        .map_err(|e| HandlerError::Retryable(format!("{e:?}")))?;
        Ok(())
    }
}

joule_sdk::export_handler!(Recorder);

fn json(status: u16, body: Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

/// `{"events": distinct ids, "runs": rows, "duplicates": ids that ran more than once}`.
fn summary(_: Request, _: Params) -> Response {
    let totals = db::query("SELECT count(DISTINCT event_id) AS events, count(*) AS runs FROM runs", &[]);
    let duplicates = db::query("SELECT event_id FROM runs GROUP BY event_id HAVING count(*) > 1", &[]);
    match (totals, duplicates) {
        (Ok(totals), Ok(duplicates)) => {
            let row = totals.first().expect("one row");
            let ids: Vec<String> = duplicates.iter().filter_map(|r| r.get("event_id").ok()).collect();
            json(200, json!({
                "events": row.get::<i64>("events").unwrap_or(-1),
                "runs": row.get::<i64>("runs").unwrap_or(-1),
                "duplicates": ids,
            }))
        }
        (Err(e), _) | (_, Err(e)) => json(500, json!({ "error": format!("{e:?}") })),
    }
}

/// What the handler saw of one event, and how many times it was attempted.
fn event(_: Request, params: Params) -> Response {
    let id = params.get("id").unwrap_or_default();
    let attempts = kv::get(&format!("attempts:{id}")).ok().flatten().map(|v| String::from_utf8_lossy(&v).parse::<i64>().unwrap_or(0));
    let runs = db::query(
        "SELECT event_type, source, attempt, correlation_id, traceparent FROM runs WHERE event_id = $1",
        &[&id],
    );
    match runs {
        Ok(runs) => {
            let runs: Vec<Value> = runs
                .iter()
                .map(|r| json!({
                    "type": r.get::<String>("event_type").ok(),
                    "source": r.get::<String>("source").ok(),
                    "attempt": r.get::<i64>("attempt").ok(),
                    "correlationId": r.get::<Option<String>>("correlation_id").ok().flatten(),
                    "traceparent": r.get::<Option<String>>("traceparent").ok().flatten(),
                }))
                .collect();
            json(200, json!({ "attempts": attempts, "runs": runs }))
        }
        Err(e) => json(500, json!({ "error": format!("{e:?}") })),
    }
}

/// How many runs each event type had.
fn types(_: Request, _: Params) -> Response {
    match db::query("SELECT event_type, count(*) AS n FROM runs GROUP BY event_type ORDER BY event_type", &[]) {
        Ok(rows) => {
            let counts: serde_json::Map<String, Value> = rows
                .iter()
                .filter_map(|r| Some((r.get::<String>("event_type").ok()?, json!(r.get::<i64>("n").ok()?))))
                .collect();
            json(200, Value::Object(counts))
        }
        Err(e) => json(500, json!({ "error": format!("{e:?}") })),
    }
}

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    let mut router = Router::new();
    router.get("/recorder/summary", summary);
    router.get("/recorder/types", types);
    router.get("/recorder/events/:id", event);
    router.handle(request)
}
