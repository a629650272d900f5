//! Durable timers end to end, on whichever backends the suite runs against: a timer a unit
//! of work schedules fires at its time, once, with the scheduling request's context; one
//! whose invocation fails never exists; keys replace and cancel; a failing handler is
//! retried and then kept as dead; timers survive a kill; and `[[trigger.schedule]]` ticks
//! fire once each, across replicas too.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, SubsecRound as _, TimeDelta, Utc};
use joule_tests::admin::{ADMIN_TOKEN, sample};
use joule_tests::{Joule, State, client, eventually, read, real_backends, send_json};
use serde_json::{Value, json};

const MANIFEST: &str = "tests/manifests/timers.toml";
const TIMER: &str = "test.timer.v1";
const TICK: &str = "test.tick.v1";
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const DELIVERED: &str = r#"joule_timers_fired_total{component="scheduler",outcome="delivered"}"#;

async fn host(state: &State) -> Joule {
    Joule::with(MANIFEST).state(state).ready().await
}

/// Now plus `millis`, to the millisecond, as a timer's due time round-trips.
fn in_millis(millis: i64) -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3) + TimeDelta::milliseconds(millis)
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(value: &Value) -> DateTime<Utc> {
    let text = value.as_str().unwrap_or_else(|| panic!("not a time: {value}"));
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text:?}: {e}")).with_timezone(&Utc)
}

async fn sleep_until(time: DateTime<Utc>) {
    if let Ok(left) = (time - Utc::now()).to_std() {
        tokio::time::sleep(left).await;
    }
}

/// `POST /scheduler/timers` with `body`: the status and the parsed answer.
async fn schedule(joule: &Joule, body: Value) -> (u16, Value) {
    send_json(client().post(joule.url("/scheduler/timers")), &body).await
}

/// Schedules one timer of [`TIMER`] that must be accepted; returns its id.
async fn schedule_one(joule: &Joule, at: DateTime<Utc>, data: Value, key: Option<&str>) -> String {
    let (status, body) = schedule(joule, json!({ "at": rfc3339(at), "eventType": TIMER, "data": data, "key": key })).await;
    assert_eq!(status, 201, "{body}");
    ids(&body).remove(0)
}

fn ids(body: &Value) -> Vec<String> {
    body["ids"].as_array().unwrap_or_else(|| panic!("no ids: {body}")).iter().map(|id| id.as_str().unwrap().to_string()).collect()
}

async fn cancel(joule: &Joule, key: &str) -> Value {
    let (status, body) = read(client().post(joule.url(&format!("/scheduler/cancel/{key}"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Every run of the event `id` (a timer's id).
async fn runs(joule: &Joule, id: &str) -> Vec<Value> {
    let (status, body) = read(client().get(joule.url(&format!("/scheduler/events/{id}"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body["runs"].as_array().unwrap().clone()
}

/// `{"events", "runs", "duplicates", "byType"}` over the runs of `event_type`.
async fn summary(joule: &Joule, event_type: &str) -> Value {
    let (status, body) = read(client().get(joule.url(&format!("/scheduler/summary?type={event_type}"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The times of the schedule's ticks that ran, in order.
async fn ticks(joule: &Joule) -> Vec<DateTime<Utc>> {
    let (status, body) = read(client().get(joule.url(&format!("/scheduler/ticks/{TICK}"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body["times"].as_array().unwrap().iter().map(parse_time).collect()
}

async fn timers(joule: &Joule) -> Value {
    let (status, body) = joule.admin_get("/admin/v1/timers").await;
    assert_eq!(status, 200, "{body}");
    body
}

fn millis(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

#[tokio::test]
async fn a_timer_fires_at_its_time_once_with_the_scheduling_context() {
    let state = State::new();
    let joule = host(&state).await;
    let due = in_millis(2_000);
    let traceparent = format!("00-{TRACE}-00f067aa0ba902b7-01");
    let response = client()
        .post(joule.url("/scheduler/timers"))
        .header("content-type", "application/json")
        .header("x-correlation-id", "timer-42")
        .header("traceparent", &traceparent)
        .body(json!({ "at": rfc3339(due), "eventType": TIMER, "data": { "behavior": "ok", "order": 42 } }).to_string())
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, 201, "{body}");
    let id = ids(&body).remove(0);

    // No request reaches the host until the timer is due and should have fired by itself.
    sleep_until(due + TimeDelta::milliseconds(1_500)).await;
    let seen = runs(&joule, &id).await;
    assert_eq!(seen.len(), 1, "the timer ran once within 1.5 s of its due time: {seen:?}");
    let run = &seen[0];
    assert_eq!(run["id"], id.as_str());
    assert_eq!(run["type"], TIMER);
    assert_eq!(run["source"], "scheduler", "a timer's source is the component that scheduled it");
    assert_eq!(run["attempt"], 1);
    assert_eq!(parse_time(&run["time"]), due, "the event's time is the due time: {run}");
    assert_eq!(run["data"], json!({ "behavior": "ok", "order": 42 }));
    assert_eq!(run["correlationId"], "timer-42", "the scheduling request's correlation id: {run}");
    let trace = run["traceparent"].as_str().unwrap_or_else(|| panic!("no traceparent: {run}"));
    assert!(trace.starts_with(&format!("00-{TRACE}-")), "one trace from the scheduling request to the timer: {trace}");
    assert_ne!(trace, traceparent, "the scheduling invocation is a span of its own");
    let handled = run["handledMs"].as_i64().unwrap();
    assert!(handled >= millis(due) - 100, "fired {} ms early", millis(due) - handled);
    assert!(handled <= millis(due) + 1_500, "fired {} ms late", handled - millis(due));

    tokio::time::sleep(Duration::from_millis(500)).await;
    let totals = summary(&joule, TIMER).await;
    assert_eq!((&totals["events"], &totals["runs"], &totals["duplicates"]), (&1.into(), &1.into(), &json!([])), "{totals}");
}

#[tokio::test]
async fn timers_of_an_invocation_that_traps_or_answers_500_never_fire() {
    let state = State::new();
    let joule = host(&state).await;
    let due = in_millis(1_000);
    let at = rfc3339(due);
    let (status, body) = schedule(&joule, json!({ "at": at, "eventType": TIMER, "data": { "case": "trap" }, "then": "trap" })).await;
    assert_eq!((status, &body["error"]["code"]), (500, &json!("component_failed")), "{body}");
    let body = json!({ "at": at, "eventType": TIMER, "data": { "case": "500" }, "count": 3, "then": "500" });
    let (status, failed) = schedule(&joule, body).await;
    assert_eq!(status, 500, "{failed}");
    let failed = ids(&failed);
    assert_eq!(failed.len(), 3);
    let control = schedule_one(&joule, due, json!({ "case": "control" }), None).await;

    eventually("the control timer", || async { !runs(&joule, &control).await.is_empty() }).await;
    sleep_until(due + TimeDelta::milliseconds(1_000)).await;
    for id in &failed {
        assert_eq!(runs(&joule, id).await, Vec::<Value>::new(), "{id} fired although its invocation answered 500");
    }
    let totals = summary(&joule, TIMER).await;
    assert_eq!(totals["events"], 1, "only the control timer fired: {totals}");
    assert_eq!(totals["runs"], 1, "{totals}");
    let listed = timers(&joule).await;
    assert_eq!(listed["dead"], json!([]), "a rolled-back timer is not kept as dead either: {listed}");
}

#[tokio::test]
async fn a_key_replaces_a_pending_timer_and_cancels_it() {
    let state = State::new();
    let joule = host(&state).await;

    // Replaced: v1 would fall due first, but only v2 fires.
    let (first_due, second_due) = (in_millis(1_500), in_millis(2_500));
    let v1 = schedule_one(&joule, first_due, json!({ "v": 1 }), Some("k")).await;
    let v2 = schedule_one(&joule, second_due, json!({ "v": 2 }), Some("k")).await;
    // Cancelled: due with v1; a control timer alongside it shows when it would have fired.
    let cancelled = schedule_one(&joule, first_due, json!({ "case": "cancelled" }), Some("c")).await;
    let control = schedule_one(&joule, first_due, json!({ "case": "control" }), None).await;
    assert_eq!(cancel(&joule, "c").await, json!({ "cancelled": true }));
    assert_eq!(cancel(&joule, "c").await, json!({ "cancelled": false }), "it is gone already");
    assert_eq!(cancel(&joule, "never-scheduled").await, json!({ "cancelled": false }));

    eventually("the control timer", || async { !runs(&joule, &control).await.is_empty() }).await;
    eventually("the replacing timer", || async { !runs(&joule, &v2).await.is_empty() }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = runs(&joule, &v2).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["data"], json!({ "v": 2 }));
    assert_eq!(parse_time(&seen[0]["time"]), second_due, "the replacement's own due time: {seen:?}");
    if v1 != v2 {
        assert_eq!(runs(&joule, &v1).await, Vec::<Value>::new(), "the replaced timer fired");
    }
    assert_eq!(runs(&joule, &cancelled).await, Vec::<Value>::new(), "the cancelled timer fired");
    let totals = summary(&joule, TIMER).await;
    assert_eq!((&totals["events"], &totals["runs"]), (&2.into(), &2.into()), "the replacement and the control: {totals}");
    assert_eq!(cancel(&joule, "k").await, json!({ "cancelled": false }), "a fired timer cannot be cancelled");
}

#[tokio::test]
async fn an_undeclared_event_type_or_a_bad_time_is_an_error_for_the_guest() {
    let state = State::new();
    let joule = host(&state).await;
    let at = rfc3339(in_millis(1_000));
    for event_type in ["test.unlisted.v1", TICK] {
        let (status, body) = schedule(&joule, json!({ "at": at, "eventType": event_type })).await;
        assert_eq!(status, 422, "{event_type} is not declared for timers: {body}");
        assert!(body["error"].as_str().unwrap_or_default().contains("NotGranted"), "{body}");
    }
    let (status, body) = schedule(&joule, json!({ "at": "next tuesday", "eventType": TIMER })).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap_or_default().contains("InvalidTimer"), "{body}");

    // The host keeps serving, and the component keeps scheduling.
    let ready = client().get(joule.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let id = schedule_one(&joule, in_millis(0), json!({ "case": "after" }), None).await;
    eventually("a timer after the refusals", || async { !runs(&joule, &id).await.is_empty() }).await;
    assert_eq!(summary(&joule, TIMER).await["events"], 1);
}

#[tokio::test]
async fn a_failing_timer_is_retried_then_kept_as_dead() {
    let state = State::new();
    let joule = host(&state).await;
    let exhausted = schedule_one(&joule, in_millis(0), json!({ "behavior": "fail-always" }), Some("doomed")).await;
    let permanent = schedule_one(&joule, in_millis(0), json!({ "behavior": "permanent" }), None).await;
    let dead_ids = |listed: &Value| -> HashSet<String> {
        listed["dead"].as_array().map_or_else(HashSet::new, |d| d.iter().filter_map(|t| t["id"].as_str().map(String::from)).collect())
    };
    eventually("two dead timers", || async { dead_ids(&timers(&joule).await).len() == 2 }).await;
    let listed = timers(&joule).await;
    assert_eq!(dead_ids(&listed), HashSet::from([exhausted.clone(), permanent.clone()]), "{listed}");
    assert!(listed["pending"].is_u64(), "{listed}");
    let dead = |id: &str| listed["dead"].as_array().unwrap().iter().find(|t| t["id"] == id).unwrap().clone();

    let timer = dead(&exhausted);
    assert_eq!(timer["component"], "scheduler", "{timer}");
    assert_eq!(timer["eventType"], TIMER, "{timer}");
    assert_eq!(timer["key"], "doomed", "{timer}");
    assert_eq!(timer["attempts"], 3, "max_attempts = 3: {timer}");
    let error = timer["error"].as_str().unwrap_or_default();
    assert!(error.contains("failing attempt 3"), "the last attempt's error: {timer}");
    assert!(timer["diedAt"].is_string() && timer["dueAt"].is_string(), "{timer}");
    let timer = dead(&permanent);
    assert_eq!(timer["attempts"], 1, "a permanent failure is not retried: {timer}");
    assert!(timer["error"].as_str().unwrap_or_default().contains("refusing this timer"), "{timer}");
    assert_eq!(summary(&joule, TIMER).await["runs"], 0, "neither ran to a commit");

    let metrics = joule.metrics().await;
    let fired = |outcome: &str| sample(&metrics, &format!("joule_timers_fired_total{{component=\"scheduler\",outcome=\"{outcome}\"}}"));
    assert_eq!((fired("retried"), fired("dead")), (2.0, 2.0), "{metrics}");

    let output = std::process::Command::new(joule_tests::joule_binary())
        .args(["timers", "--admin", &joule.admin_url(""), "--token", ADMIN_TOKEN])
        .env_remove("JOULE_ADMIN_TOKEN")
        .env_remove("JOULE_ADMIN_URL")
        .output()
        .expect("run joule timers");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("pending"), "{stdout}");
    for id in [&exhausted, &permanent] {
        assert!(stdout.lines().any(|l| l.contains(id.as_str()) && l.contains("scheduler")), "joule timers lists {id}:\n{stdout}");
    }
    assert!(stdout.contains("failing attempt 3"), "{stdout}");
}

#[tokio::test]
async fn a_timer_scheduled_before_a_kill_fires_once_after_the_restart() {
    let state = State::new();
    let mut first = host(&state).await;
    let due = in_millis(2_000);
    let id = schedule_one(&first, due, json!({ "case": "restart" }), None).await;
    assert_eq!(runs(&first, &id).await, Vec::<Value>::new(), "not due yet");
    first.kill();
    drop(first);

    let joule = host(&state).await;
    eventually("the timer after the restart", || async { !runs(&joule, &id).await.is_empty() }).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = runs(&joule, &id).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0]["handledMs"].as_i64().unwrap() >= millis(due) - 100, "not before its time: {seen:?}");
    assert_eq!(parse_time(&seen[0]["time"]), due);
    let totals = summary(&joule, TIMER).await;
    assert_eq!((&totals["events"], &totals["runs"], &totals["duplicates"]), (&1.into(), &1.into(), &json!([])), "{totals}");
}

/// Each gap between consecutive ticks is a positive whole number of the 2 s period.
fn assert_two_seconds_apart(times: &[DateTime<Utc>]) {
    let distinct: HashSet<_> = times.iter().collect();
    assert_eq!(distinct.len(), times.len(), "a tick ran twice: {times:?}");
    for time in times {
        assert_eq!(time.timestamp_subsec_nanos(), 0, "a tick is on a whole second: {times:?}");
        assert_eq!(time.timestamp() % 2, 0, "a tick is on an even second: {times:?}");
    }
    for pair in times.windows(2) {
        let gap = (pair[1] - pair[0]).num_milliseconds();
        assert!(gap > 0 && gap % 2_000 == 0, "ticks are 2 s apart: {times:?}");
    }
}

#[tokio::test]
async fn the_schedule_ticks_every_two_seconds_once_each() {
    let state = State::new();
    let joule = host(&state).await;
    eventually("three ticks", || async { ticks(&joule).await.len() >= 3 }).await;
    let times = ticks(&joule).await;
    assert_two_seconds_apart(&times);
    let exact = times.windows(2).filter(|pair| pair[1] - pair[0] == TimeDelta::seconds(2)).count();
    assert!(exact >= 1, "consecutive ticks are not skipped while the host runs: {times:?}");

    let (_, body) = read(client().get(joule.url(&format!("/scheduler/ticks/{TICK}"))).send().await.unwrap()).await;
    // The first tick may wait for the host to finish starting; the later ones are on time.
    for run in body["runs"].as_array().unwrap().iter().skip(1) {
        assert_eq!((&run["source"], &run["attempt"]), (&json!("scheduler"), &json!(1)), "{run}");
        let late = run["handledMs"].as_i64().unwrap() - millis(parse_time(&run["time"]));
        assert!((-100..1_500).contains(&late), "a tick ran {late} ms after its time: {run}");
    }
    assert_eq!(summary(&joule, TICK).await["duplicates"], json!([]));
}

#[tokio::test]
async fn a_tick_missed_while_no_host_ran_fires_once_at_start_up() {
    let state = State::new();
    let mut first = host(&state).await;
    eventually("a first tick", || async { !ticks(&first).await.is_empty() }).await;
    // Past the first tick's settling (its row moves on just after its run commits), well
    // before the next tick.
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill();
    let killed = Utc::now();
    drop(first);
    // At least two ticks fall due while no host runs.
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    let restarted = Utc::now();

    let joule = host(&state).await;
    eventually("two ticks after the restart", || async { ticks(&joule).await.iter().filter(|t| **t > restarted).count() >= 2 }).await;
    let times = ticks(&joule).await;
    assert_two_seconds_apart(&times);
    let missed: Vec<_> = times.iter().filter(|t| **t > killed && **t <= restarted).collect();
    assert_eq!(missed.len(), 1, "the ticks missed while down fire once, as one (down {killed} to {restarted}): {times:?}");
}

#[tokio::test]
async fn timer_deliveries_are_counted_and_timed() {
    let state = State::new();
    let joule = host(&state).await;
    let id = schedule_one(&joule, in_millis(200), json!({ "case": "metrics" }), None).await;
    eventually("the timer", || async { !runs(&joule, &id).await.is_empty() }).await;
    eventually("its delivery counted", || async { sample(&joule.metrics().await, DELIVERED) >= 1.0 }).await;
    let metrics = joule.metrics().await;
    let lateness = r#"joule_timer_lateness_seconds_count{component="scheduler"}"#;
    assert!(sample(&metrics, lateness) >= 1.0, "a first delivery's lateness is observed: {metrics}");

    // The pending gauge counts a timer that waits, as the admin API does.
    let before = timers(&joule).await["pending"].as_u64().unwrap();
    schedule_one(&joule, in_millis(3_600_000), json!({ "case": "later" }), None).await;
    let listed = timers(&joule).await;
    assert_eq!(listed["pending"].as_u64(), Some(before + 1), "{listed}");
    let metrics = joule.metrics().await;
    assert_eq!(sample(&metrics, "joule_timers_pending"), (before + 1) as f64, "{metrics}");
}

/// The delivered count over both replicas, less the ticks (they are timers too), once the
/// tick count is the same before and after reading the metrics.
async fn timers_delivered(replicas: [&Joule; 2]) -> (f64, usize) {
    loop {
        let ticks_before = ticks(replicas[0]).await.len();
        let mut delivered = 0.0;
        for joule in replicas {
            delivered += sample(&joule.metrics().await, DELIVERED);
        }
        let ticks_after = ticks(replicas[0]).await.len();
        if ticks_before == ticks_after {
            return (delivered - ticks_after as f64, ticks_after);
        }
    }
}

#[tokio::test]
async fn replicas_fire_each_of_a_thousand_timers_due_at_once_exactly_once() {
    if !real_backends() {
        eprintln!("replicas share Postgres; this runs in the pass against the real services");
        return;
    }
    let state = State::new();
    let replica_state = state.replica();
    let a = host(&state).await;
    let b = host(&replica_state).await;

    // All due in the same second, scheduled through both replicas.
    let due = Utc::now().trunc_subsecs(0) + TimeDelta::seconds(5);
    let requests: Vec<_> = [&a, &b, &a, &b]
        .iter()
        .enumerate()
        .map(|(i, joule)| {
            let body = json!({ "at": rfc3339(due), "eventType": TIMER, "data": { "batch": i }, "count": 250 });
            let request = client().post(joule.url("/scheduler/timers")).header("content-type", "application/json").body(body.to_string());
            tokio::spawn(async move { read(request.send().await.unwrap()).await })
        })
        .collect();
    for request in requests {
        let (status, body) = request.await.unwrap();
        assert_eq!(status, 201, "{body}");
        assert_eq!(ids(&body).len(), 250);
    }

    eventually("1000 fired timers", || async { summary(&a, TIMER).await["events"] == 1000 }).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let totals = summary(&b, TIMER).await;
    assert_eq!(totals, json!({ "events": 1000, "runs": 1000, "duplicates": [], "byType": { TIMER: 1000 } }));

    // Each was delivered once: the replicas' delivered counts add up to the timers and ticks.
    let started = Instant::now();
    loop {
        let (delivered, ticks) = timers_delivered([&a, &b]).await;
        if delivered == 1000.0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{delivered} timers counted as delivered (besides {ticks} ticks)");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    eventually("three ticks", || async { ticks(&a).await.len() >= 3 }).await;
    let times = ticks(&b).await;
    assert_two_seconds_apart(&times);
    assert_eq!(summary(&a, TICK).await["duplicates"], json!([]), "each tick ran once across the replicas");
}
