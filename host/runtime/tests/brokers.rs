//! Both brokers behave alike: routing by topic pattern, acknowledgement, retries after a
//! delay with the attempt counted, and dead-lettering. The embedded broker always runs;
//! RabbitMQ runs when `JOULE_TEST_AMQP_URL` is set.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use joule_runtime::embedded::LocalStore;
use joule_runtime::events::broker::embedded::EmbeddedBroker;
use joule_runtime::events::broker::rabbitmq::RabbitBroker;
use joule_runtime::events::{Broker, Deliveries, Envelope, QueueSpec};

struct Subject {
    broker: Arc<dyn Broker>,
    namespace: String,
    _dir: tempfile::TempDir,
}

async fn subjects() -> Vec<Subject> {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).await.unwrap();
    let namespace = format!("jb{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let mut subjects = vec![Subject {
        broker: Arc::new(EmbeddedBroker::open(store).await.unwrap()),
        namespace: namespace.clone(),
        _dir: dir,
    }];
    if let Some(url) = support::amqp_url() {
        let broker = RabbitBroker::connect(&url, &format!("{namespace}.events")).await.unwrap();
        subjects.push(Subject { broker: Arc::new(broker), namespace, _dir: tempfile::tempdir().unwrap() });
    }
    subjects
}

fn queue(subject: &Subject, name: &str, patterns: &[&str]) -> QueueSpec {
    QueueSpec {
        name: format!("{}.{name}", subject.namespace),
        patterns: patterns.iter().map(|p| p.to_string()).collect(),
        prefetch: 8,
        retry_delays: vec![Duration::from_millis(300)],
        handover: None,
    }
}

fn event(event_type: &str, id: &str) -> Envelope {
    Envelope::new(id.into(), "test", event_type, serde_json::json!({ "id": id }), None, None)
}

/// Deletes a test's queues from RabbitMQ; the embedded broker's go with its directory.
async fn clean_up(subject: &Subject, spec: &QueueSpec) {
    let Some(url) = support::amqp_url().filter(|_| subject.broker.name() == "rabbitmq") else { return };
    let connection = lapin::Connection::connect(&url, lapin::ConnectionProperties::default()).await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    let names =
        [spec.name.clone(), spec.dead_letter_queue(), format!("{}.retry.300ms", spec.name), format!("{}.bindings", spec.name)];
    for name in names {
        channel.queue_delete(name.as_str().into(), Default::default()).await.unwrap();
    }
    let exchange = format!("{}.events", subject.namespace);
    channel.exchange_delete(exchange.as_str().into(), Default::default()).await.unwrap();
}

async fn next_within(deliveries: &mut Box<dyn Deliveries>, wait: Duration) -> Option<joule_runtime::events::Delivery> {
    tokio::time::timeout(wait, deliveries.next()).await.ok().map(|d| d.unwrap())
}

#[tokio::test]
async fn routes_by_pattern_and_acknowledges() {
    for subject in subjects().await {
        let spec = queue(&subject, "routing", &["a.*.v1", "c.#"]);
        subject.broker.declare(&spec).await.unwrap();
        let events = [event("a.x.v1", "1"), event("b.x.v1", "2"), event("c.deep.down.v1", "3")];
        subject.broker.publish(&events).await.unwrap();
        let mut deliveries = subject.broker.consume(&spec).await.unwrap();
        let mut received = Vec::new();
        for _ in 0..2 {
            let delivery = next_within(&mut deliveries, Duration::from_secs(5)).await.expect("a delivery");
            assert_eq!(delivery.attempt, 1);
            received.push(Envelope::parse(&delivery.body).unwrap().id);
            delivery.settle.ack().await.unwrap();
        }
        received.sort();
        assert_eq!(received, ["1", "3"], "{}", subject.broker.name());
        assert!(next_within(&mut deliveries, Duration::from_millis(500)).await.is_none(), "{}", subject.broker.name());
        clean_up(&subject, &spec).await;
    }
}

#[tokio::test]
async fn retries_after_the_delay_and_counts_the_attempt() {
    for subject in subjects().await {
        let spec = queue(&subject, "retries", &["r.v1"]);
        subject.broker.declare(&spec).await.unwrap();
        subject.broker.publish(&[event("r.v1", "r")]).await.unwrap();
        let mut deliveries = subject.broker.consume(&spec).await.unwrap();
        let first = next_within(&mut deliveries, Duration::from_secs(5)).await.expect("a delivery");
        let retried_at = Instant::now();
        first.settle.retry(2, Duration::from_millis(300)).await.unwrap();
        let second = next_within(&mut deliveries, Duration::from_secs(5)).await.expect("the retry");
        assert!(retried_at.elapsed() >= Duration::from_millis(250), "{}: {:?}", subject.broker.name(), retried_at.elapsed());
        assert_eq!(second.attempt, 2, "{}", subject.broker.name());
        second.settle.ack().await.unwrap();
        clean_up(&subject, &spec).await;
    }
}

#[tokio::test]
async fn dead_letters_go_to_their_own_queue() {
    for subject in subjects().await {
        let spec = queue(&subject, "dead", &["d.v1"]);
        subject.broker.declare(&spec).await.unwrap();
        subject.broker.publish(&[event("d.v1", "d")]).await.unwrap();
        let mut deliveries = subject.broker.consume(&spec).await.unwrap();
        let delivery = next_within(&mut deliveries, Duration::from_secs(5)).await.expect("a delivery");
        delivery.settle.dead_letter("refused", 1).await.unwrap();
        assert!(next_within(&mut deliveries, Duration::from_millis(500)).await.is_none());
        let dead = QueueSpec { name: spec.dead_letter_queue(), patterns: Vec::new(), ..spec.clone() };
        let mut dead_letters = subject.broker.consume(&dead).await.unwrap();
        let letter = next_within(&mut dead_letters, Duration::from_secs(5)).await.expect("a dead letter");
        assert_eq!(Envelope::parse(&letter.body).unwrap().id, "d", "{}", subject.broker.name());
        letter.settle.ack().await.unwrap();
        clean_up(&subject, &spec).await;
    }
}

#[tokio::test]
async fn a_pattern_dropped_from_the_declaration_no_longer_routes_to_the_queue() {
    for subject in subjects().await {
        let before = queue(&subject, "rebinding", &["kept.v1", "dropped.v1"]);
        subject.broker.declare(&before).await.unwrap();
        let after = queue(&subject, "rebinding", &["kept.v1"]);
        subject.broker.declare(&after).await.unwrap();
        subject.broker.declare(&after).await.unwrap();
        subject.broker.publish(&[event("dropped.v1", "gone"), event("kept.v1", "kept")]).await.unwrap();
        let mut deliveries = subject.broker.consume(&after).await.unwrap();
        let delivery = next_within(&mut deliveries, Duration::from_secs(5)).await.expect("a delivery");
        assert_eq!(Envelope::parse(&delivery.body).unwrap().id, "kept", "{}", subject.broker.name());
        delivery.settle.ack().await.unwrap();
        assert!(next_within(&mut deliveries, Duration::from_millis(500)).await.is_none(), "{}", subject.broker.name());
        clean_up(&subject, &after).await;
    }
}
