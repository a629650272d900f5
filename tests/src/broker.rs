//! Reaching the broker behind a host's back: reading its dead letters, and delivering
//! messages straight to a queue, whichever broker the suite runs against.

use std::path::Path;
use std::str::FromStr as _;

use lapin::options::{BasicGetOptions, BasicPublishOptions, ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::types::AMQPValue;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Row as _};

use crate::State;

/// A message in a dead-letter queue.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub body: serde_json::Value,
    pub reason: String,
    pub attempts: i64,
}

fn platform_db(state: &State) -> std::path::PathBuf {
    state.path().join("joule/platform.db")
}

async fn sqlite(path: &Path) -> sqlx::SqliteConnection {
    SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .expect("sqlite path")
        .busy_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await
        .expect("open the embedded broker's store")
}

/// Everything in `<queue>.dlq`, leaving RabbitMQ's copies in place.
pub async fn dead_letters(state: &State, queue: &str) -> Vec<DeadLetter> {
    let dlq = format!("{queue}.dlq");
    let Some(services) = state.services() else {
        let mut connection = sqlite(&platform_db(state)).await;
        return sqlx::query("SELECT body, reason, attempt FROM broker_messages WHERE queue = $1 ORDER BY id")
            .bind(&dlq)
            .fetch_all(&mut connection)
            .await
            .unwrap_or_default()
            .iter()
            .map(|row| DeadLetter {
                body: serde_json::from_slice(&row.get::<Vec<u8>, _>(0)).unwrap_or_default(),
                reason: row.get(1),
                attempts: row.get(2),
            })
            .collect();
    };
    let connection = Connection::connect(&services.amqp_url, ConnectionProperties::default()).await.expect("connect");
    let channel = connection.create_channel().await.expect("channel");
    let mut letters = Vec::new();
    // Until the consumer has declared its queues there is no dead-letter queue: nothing yet.
    while let Ok(Some(message)) = channel.basic_get(dlq.as_str().into(), BasicGetOptions::default()).await {
        let headers = message.delivery.properties.headers().clone().unwrap_or_default();
        let header = |name: &str| headers.inner().get(name).cloned();
        letters.push(DeadLetter {
            body: serde_json::from_slice(&message.delivery.data).unwrap_or_default(),
            reason: match header("x-joule-reason") {
                Some(AMQPValue::LongString(reason)) => reason.to_string(),
                _ => String::new(),
            },
            attempts: match header("x-joule-attempts") {
                Some(AMQPValue::LongLongInt(n)) => n,
                _ => 0,
            },
        });
    }
    // Closing without acking returns every message to the queue.
    let _ = connection.close(200, "done".into()).await;
    letters
}

/// Delivers `body` to `queue` as if the events exchange had routed it there: on RabbitMQ,
/// through the exchange itself with `routing_key`.
pub async fn deliver(state: &State, queue: &str, routing_key: &str, body: &serde_json::Value) {
    let bytes = serde_json::to_vec(body).expect("json");
    let Some(services) = state.services() else {
        let mut connection = sqlite(&platform_db(state)).await;
        sqlx::query("INSERT INTO broker_messages (queue, body, available_at) VALUES ($1, $2, 0)")
            .bind(queue)
            .bind(bytes)
            .execute(&mut connection)
            .await
            .expect("insert into the embedded broker");
        return;
    };
    let connection = Connection::connect(&services.amqp_url, ConnectionProperties::default()).await.expect("connect");
    let channel = connection.create_channel().await.expect("channel");
    channel
        .basic_publish(
            state.exchange().as_str().into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            &bytes,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .expect("publish");
    let _ = connection.close(200, "done".into()).await;
}

/// Removes a test's queues and exchange from RabbitMQ, as far as it can find them.
pub(crate) async fn delete_namespace(url: &str, namespace: &str, exchange: &str) {
    let Ok(connection) = Connection::connect(url, ConnectionProperties::default()).await else { return };
    let Ok(channel) = connection.create_channel().await else { return };
    // Queue names are only listed by rabbitmqctl, which is there when RabbitMQ is local.
    let listed = std::process::Command::new("rabbitmqctl").args(["list_queues", "-q", "--no-table-headers", "name"]).output();
    let names = listed.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    for name in names.lines().map(str::trim).filter(|n| n.starts_with(&format!("{namespace}."))) {
        let _ = channel.queue_delete(name.into(), QueueDeleteOptions::default()).await;
    }
    let _ = channel.exchange_delete(exchange.into(), ExchangeDeleteOptions::default()).await;
    let _ = connection.close(200, "done".into()).await;
}
