//! Schedules timers from HTTP requests and records the events they deliver, for the timer tests.
//!
//! `POST /scheduler/timers` takes `{"at", "eventType", "data", "key"?, "count"?, "then"?}`:
//! it schedules `count` timers (one by default), each with `data` plus its index `n`, all in
//! this one invocation; then, with `"then": "trap"` it traps and with `"then": "500"` it
//! answers 500 (with the ids), so none of them may exist. A timer error answers 422.
//! `POST /scheduler/cancel/:key` cancels the pending timer with that key.
//!
//! The event handler fails as the event's `behavior` says (`fail-always` with a retryable
//! error, `permanent` with a permanent one) and otherwise records the run, with the wall
//! clock time it ran at. `GET /scheduler/summary`, `/scheduler/count`, `/scheduler/events/:id`
//! and `/scheduler/ticks/:type` report the runs.

use joule_sdk::bindings::joule::platform::timers;
use joule_sdk::db;
use joule_sdk::events::{Event, Handler, HandlerError};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response, Router};

struct Scheduler;

impl Handler for Scheduler {
    fn handle(event: Event) -> Result<(), HandlerError> {
        let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
        match data["behavior"].as_str() {
            Some("fail-always") => return Err(HandlerError::Retryable(format!("failing attempt {}", event.attempt))),
            Some("permanent") => return Err(HandlerError::Permanent("refusing this timer".into())),
            _ => {}
        }
        db::execute(
            "INSERT INTO runs (event_id, event_type, source, attempt, event_time, data, correlation_id, traceparent, handled_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &event.id,
                &event.event_type,
                &event.source,
                &event.attempt,
                &event.time,
                &event.data,
                &event.correlation_id,
                &event.traceparent,
                &now_ms(),
            ],
        )
        .map_err(|e| HandlerError::Retryable(format!("{e:?}")))?;
        Ok(())
    }
}

joule_sdk::export_handler!(Scheduler);

/// The wall clock, in milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn json(status: u16, body: Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

fn failed(e: &db::Error) -> Response {
    json(500, json!({ "error": format!("{e:?}") }))
}

fn schedule(request: Request, _: Params) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(request.body()) else {
        return json(400, json!({ "error": "expected JSON" }));
    };
    let at = body["at"].as_str().unwrap_or_default();
    let event_type = body["eventType"].as_str().unwrap_or("test.timer.v1");
    let key = body["key"].as_str();
    let count = body["count"].as_u64();
    let mut ids = Vec::new();
    for n in 0..count.unwrap_or(1) {
        let mut data = match &body["data"] {
            Value::Null => json!({}),
            data => data.clone(),
        };
        if count.is_some() && data.is_object() {
            data["n"] = json!(n);
        }
        match timers::schedule(at, event_type, &data.to_string(), key) {
            Ok(id) => ids.push(id),
            Err(e) => return json(422, json!({ "error": format!("{e:?}") })),
        }
    }
    match body["then"].as_str() {
        Some("trap") => panic!("trapping after scheduling {} timers", ids.len()),
        Some("500") => json(500, json!({ "error": "failing after scheduling", "ids": ids })),
        _ => json(201, json!({ "ids": ids })),
    }
}

fn cancel(_: Request, params: Params) -> Response {
    match timers::cancel(params.get("key").unwrap_or_default()) {
        Ok(cancelled) => json(200, json!({ "cancelled": cancelled })),
        Err(e) => json(422, json!({ "error": format!("{e:?}") })),
    }
}

/// The `type` in the query string, if any.
fn type_filter(request: &Request) -> Option<String> {
    request.query().split('&').find_map(|pair| pair.strip_prefix("type=")).filter(|t| !t.is_empty()).map(str::to_string)
}

/// `{"events": distinct ids, "runs": rows, "duplicates": ids run more than once, "byType": {type: runs}}`,
/// over the runs of one event type with `?type=`.
fn summary(request: Request, _: Params) -> Response {
    let filter = type_filter(&request);
    let (clause, params): (&str, Vec<&dyn db::ToSql>) = match &filter {
        Some(event_type) => ("WHERE event_type = $1", vec![event_type as &dyn db::ToSql]),
        None => ("", Vec::new()),
    };
    let totals = db::query(&format!("SELECT count(DISTINCT event_id) AS events, count(*) AS runs FROM runs {clause}"), &params);
    let duplicates = db::query(
        &format!("SELECT event_id FROM runs {clause} GROUP BY event_id HAVING count(*) > 1 ORDER BY event_id"),
        &params,
    );
    let types = db::query(
        &format!("SELECT event_type, count(*) AS n FROM runs {clause} GROUP BY event_type ORDER BY event_type"),
        &params,
    );
    match (totals, duplicates, types) {
        (Ok(totals), Ok(duplicates), Ok(types)) => {
            let row = totals.first().expect("one row");
            let ids: Vec<String> = duplicates.iter().filter_map(|r| r.get("event_id").ok()).collect();
            let by_type: serde_json::Map<String, Value> = types
                .iter()
                .filter_map(|r| Some((r.get::<String>("event_type").ok()?, json!(r.get::<i64>("n").ok()?))))
                .collect();
            json(200, json!({
                "events": row.get::<i64>("events").unwrap_or(-1),
                "runs": row.get::<i64>("runs").unwrap_or(-1),
                "duplicates": ids,
                "byType": by_type,
            }))
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => failed(&e),
    }
}

/// `{"runs": rows}` of one event type (`?type=`): cheap enough to poll while a burst drains.
fn count(request: Request, _: Params) -> Response {
    let event_type = type_filter(&request).unwrap_or_default();
    match db::query("SELECT count(*) AS runs FROM runs WHERE event_type = $1", &[&event_type]) {
        Ok(rows) => json(200, json!({ "runs": rows.first().and_then(|r| r.get::<i64>("runs").ok()).unwrap_or(-1) })),
        Err(e) => failed(&e),
    }
}

fn run_json(row: &db::Row<'_>) -> Value {
    let data = row.get::<String>("data").ok();
    json!({
        "id": row.get::<String>("event_id").ok(),
        "type": row.get::<String>("event_type").ok(),
        "source": row.get::<String>("source").ok(),
        "attempt": row.get::<i64>("attempt").ok(),
        "time": row.get::<String>("event_time").ok(),
        "data": data.and_then(|d| serde_json::from_str::<Value>(&d).ok()),
        "correlationId": row.get::<Option<String>>("correlation_id").ok().flatten(),
        "traceparent": row.get::<Option<String>>("traceparent").ok().flatten(),
        "handledMs": row.get::<i64>("handled_ms").ok(),
    })
}

const COLUMNS: &str = "event_id, event_type, source, attempt, event_time, data, correlation_id, traceparent, handled_ms";

/// `{"runs": [...]}`: every run of one event id.
fn event(_: Request, params: Params) -> Response {
    let id = params.get("id").unwrap_or_default();
    match db::query(&format!("SELECT {COLUMNS} FROM runs WHERE event_id = $1 ORDER BY handled_ms"), &[&id]) {
        Ok(rows) => json(200, json!({ "runs": rows.iter().map(|r| run_json(&r)).collect::<Vec<_>>() })),
        Err(e) => failed(&e),
    }
}

/// `{"times": [...], "runs": [...]}`: the event times of the runs of one type, in time order.
/// With `?since=<ms>`, only the runs handled from then on: the benchmark reads one burst's
/// runs, not every earlier one's.
fn ticks(request: Request, params: Params) -> Response {
    let event_type = params.get("type").unwrap_or_default();
    let since: i64 =
        request.query().split('&').find_map(|pair| pair.strip_prefix("since=")).and_then(|ms| ms.parse().ok()).unwrap_or(0);
    let statement =
        format!("SELECT {COLUMNS} FROM runs WHERE event_type = $1 AND handled_ms >= $2 ORDER BY event_time, handled_ms");
    match db::query(&statement, &[&event_type, &since]) {
        Ok(rows) => {
            let runs: Vec<Value> = rows.iter().map(|r| run_json(&r)).collect();
            let times: Vec<Value> = runs.iter().map(|r| r["time"].clone()).collect();
            json(200, json!({ "times": times, "runs": runs }))
        }
        Err(e) => failed(&e),
    }
}

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    let mut router = Router::new();
    router.post("/scheduler/timers", schedule);
    router.post("/scheduler/cancel/:key", cancel);
    router.get("/scheduler/summary", summary);
    router.get("/scheduler/count", count);
    router.get("/scheduler/events/:id", event);
    router.get("/scheduler/ticks/:type", ticks);
    router.handle(request)
}
