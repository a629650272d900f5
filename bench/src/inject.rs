//! Events put straight onto a deployment's events exchange, as the relay would publish
//! them, so that a benchmark measures the consuming side alone.

use anyhow::Context as _;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::{Value, json};

/// Confirms awaited at once.
const BATCH: usize = 200;

/// A CloudEvents envelope of `event_type` carrying `data`, with a fresh id.
pub fn envelope(event_type: &str, data: Value) -> Value {
    json!({
        "specversion": "1.0",
        "id": uuid::Uuid::now_v7().to_string(),
        "source": "bench",
        "type": event_type,
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "datacontenttype": "application/json",
        "data": data,
    })
}

/// Publishes each envelope to `exchange` under its type, persistent and confirmed.
pub fn publish(amqp_url: &str, exchange: &str, envelopes: &[Value]) -> anyhow::Result<()> {
    send(amqp_url, exchange, None, envelopes)
}

/// Publishes each envelope straight to `queue`, past the events exchange, so only that
/// queue's component takes them.
pub fn publish_to_queue(amqp_url: &str, queue: &str, envelopes: &[Value]) -> anyhow::Result<()> {
    send(amqp_url, "", Some(queue), envelopes)
}

/// Publishes to `exchange`, under `routing_key` or else each envelope's type.
fn send(amqp_url: &str, exchange: &str, routing_key: Option<&str>, envelopes: &[Value]) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let connection = Connection::connect(amqp_url, ConnectionProperties::default()).await.context("connect to RabbitMQ")?;
        let channel = connection.create_channel().await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        for batch in envelopes.chunks(BATCH) {
            let mut confirms = Vec::with_capacity(batch.len());
            for envelope in batch {
                let routing_key = match routing_key {
                    Some(key) => key,
                    None => envelope["type"].as_str().context("an envelope has a type")?,
                };
                let body = serde_json::to_vec(envelope)?;
                let properties = BasicProperties::default().with_delivery_mode(2).with_content_type("application/json".into());
                confirms.push(
                    channel.basic_publish(exchange.into(), routing_key.into(), BasicPublishOptions::default(), &body, properties).await?,
                );
            }
            for confirm in confirms {
                confirm.await?;
            }
        }
        let _ = connection.close(200, "done".into()).await;
        anyhow::Ok(())
    })
}
