//! One trace covers an event's whole path: the HTTP invocation that publishes it, the relay
//! that sends it, and each attempt of the queue-triggered handler, with a span for every
//! host call inside them. The spans reach an OTLP/HTTP receiver run by the test, and the
//! log lines written inside the invocations carry the trace id and the component.

use joule_tests::otlp::{Receiver, Span};
use joule_tests::{Joule, State, client, eventually, read};
use serde_json::{Value, json};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const SERVER: u64 = 2;
const PRODUCER: u64 = 4;
const CONSUMER: u64 = 5;

#[tokio::test]
async fn the_request_the_relay_and_the_handler_share_one_trace() {
    let receiver = Receiver::start().await;
    let state = State::new();
    let joule = Joule::with("tests/manifests/events.toml")
        .state(&state)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .arg("--log-format")
        .arg("json")
        .ready()
        .await;
    let response = client()
        .post(joule.url("/publisher/events"))
        .header("content-type", "application/json")
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        // Fails twice before it succeeds, so there are three handler spans and retry logs.
        .body(json!({ "type": "test.event.v1", "count": 1, "data": { "behavior": "fail-twice" } }).to_string())
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, 201, "{body}");

    let handled = |spans: &[Span]| spans.iter().any(|s| is_handler(s) && s.attribute("outcome").as_deref() == Some("handled"));
    eventually("the handler's last span", || async { handled(&traced(&receiver)) }).await;
    let spans = traced(&receiver);

    let request = only(&spans, "the HTTP invocation", |s| s.name == "joule.invoke" && s.attribute("trigger").as_deref() == Some("http"));
    assert_eq!(request.parent_span_id, CALLER_SPAN, "the caller's span is the parent");
    assert_eq!(request.kind, SERVER);
    assert_eq!(request.attribute("component").as_deref(), Some("publisher"));
    assert_eq!(request.attribute("outcome").as_deref(), Some("success"));
    assert_eq!(request.attribute("version").as_deref(), Some("1"));

    let relay = only(&spans, "the relay", |s| s.name == "joule.relay");
    assert_eq!(relay.parent_span_id, request.span_id, "the relay continues the publishing invocation");
    assert_eq!(relay.kind, PRODUCER);
    assert_eq!(relay.attribute("event_id").as_deref(), body["ids"][0].as_str());

    let attempts: Vec<&Span> = spans.iter().filter(|s| is_handler(s)).collect();
    let outcomes: Vec<_> = attempts.iter().map(|s| s.attribute("outcome").unwrap_or_default()).collect();
    assert_eq!(outcomes.iter().filter(|o| *o == "failed").count(), 2, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| *o == "handled").count(), 1, "{outcomes:?}");
    for attempt in &attempts {
        assert_eq!(attempt.parent_span_id, relay.span_id, "each attempt is a child of the relay: {attempt:#?}");
        assert_eq!(attempt.kind, CONSUMER);
        assert_eq!(attempt.attribute("component").as_deref(), Some("recorder"));
    }

    let calls = |parent: &Span| -> Vec<String> {
        spans.iter().filter(|s| s.parent_span_id == parent.span_id).filter_map(|s| s.attribute("function")).collect()
    };
    assert!(calls(request).iter().any(|f| f == "publish"), "the publish host call is a span: {:?}", calls(request));
    let last = attempts.iter().find(|s| s.attribute("outcome").as_deref() == Some("handled")).unwrap();
    assert!(calls(last).iter().any(|f| f == "execute"), "the handler's database calls are spans: {:?}", calls(last));

    let retries: Vec<Value> = joule
        .logs()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "retrying")
        .collect();
    assert_eq!(retries.len(), 2, "{}", joule.logs());
    for line in &retries {
        assert_eq!(line["span"]["trace_id"], TRACE, "{line}");
        assert_eq!(line["span"]["component"], "recorder", "{line}");
    }
}

fn is_handler(span: &Span) -> bool {
    span.name == "joule.invoke" && span.attribute("trigger").as_deref() == Some("amqp")
}

/// The spans of this test's trace received so far.
fn traced(receiver: &Receiver) -> Vec<Span> {
    receiver.spans().into_iter().filter(|s| s.trace_id == TRACE).collect()
}

fn only<'a>(spans: &'a [Span], what: &str, predicate: impl Fn(&Span) -> bool) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|s| predicate(s)).collect();
    assert_eq!(found.len(), 1, "expected one span for {what} among {spans:#?}");
    found[0]
}
