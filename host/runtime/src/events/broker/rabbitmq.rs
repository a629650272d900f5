//! RabbitMQ through lapin: a durable topic exchange for events, one durable queue per
//! consumer, delay queues for retries (a TTL that dead-letters back into the queue), and a
//! dead-letter queue. Every publish is persistent and waits for the broker's confirm.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use futures::StreamExt as _;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Mutex;

use super::{ATTEMPT_HEADER, ATTEMPTS_HEADER, Broker, Deliveries, Delivery, Handover, QueueSpec, REASON_HEADER, Settle};
use crate::events::{ENVELOPE_CONTENT_TYPE, Envelope};

/// Persistent delivery: the message survives a broker restart.
const PERSISTENT: u8 = 2;

pub struct RabbitBroker {
    url: String,
    exchange: String,
    /// The connection, made again when lost.
    connection: Mutex<Option<Connection>>,
    /// The relay's confirm channel.
    publisher: Mutex<Option<Channel>>,
}

impl RabbitBroker {
    /// Connects with `url` (from `AMQP_URL`) and declares the events exchange.
    pub async fn connect(url: &str, exchange: &str) -> anyhow::Result<Self> {
        let broker =
            Self { url: url.to_string(), exchange: exchange.to_string(), connection: Mutex::new(None), publisher: Mutex::new(None) };
        let channel = broker.channel().await.context("failed to connect to RabbitMQ (AMQP_URL)")?;
        declare_exchange(&channel, exchange).await?;
        close(channel).await;
        Ok(broker)
    }

    /// A new channel on the current connection, reconnecting first if it was lost.
    async fn channel(&self) -> anyhow::Result<Channel> {
        let mut connection = self.connection.lock().await;
        if !connection.as_ref().is_some_and(|c| c.status().connected()) {
            let connected = Connection::connect(&self.url, ConnectionProperties::default())
                .await
                .map_err(|e| anyhow::anyhow!("cannot reach RabbitMQ at {}: {e}", redacted(&self.url)))?;
            *connection = Some(connected);
        }
        Ok(connection.as_ref().expect("just connected").create_channel().await?)
    }

    async fn publisher(&self) -> anyhow::Result<Channel> {
        let mut publisher = self.publisher.lock().await;
        if let Some(channel) = publisher.as_ref().filter(|c| c.status().connected()) {
            return Ok(channel.clone());
        }
        let channel = self.channel().await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        *publisher = Some(channel.clone());
        Ok(channel)
    }

    async fn publish_on(&self, channel: &Channel, events: &[Envelope]) -> anyhow::Result<()> {
        let mut confirms = Vec::with_capacity(events.len());
        for event in events {
            let mut headers = FieldTable::default();
            if let Some(traceparent) = &event.traceparent {
                headers.insert("traceparent".into(), AMQPValue::LongString(LongString::from(traceparent.as_str())));
            }
            if let Some(correlation) = &event.correlationid {
                headers.insert("correlationid".into(), AMQPValue::LongString(LongString::from(correlation.as_str())));
            }
            let properties = BasicProperties::default()
                .with_delivery_mode(PERSISTENT)
                .with_content_type(ShortString::from(ENVELOPE_CONTENT_TYPE))
                .with_message_id(ShortString::from(event.id.as_str()))
                .with_headers(headers);
            let confirm = channel
                .basic_publish(
                    self.exchange.as_str().into(),
                    event.event_type.as_str().into(),
                    BasicPublishOptions::default(),
                    &event.to_bytes(),
                    properties,
                )
                .await?;
            confirms.push(confirm);
        }
        for confirm in confirms {
            if let Confirmation::Nack(_) = confirm.await? {
                bail!("RabbitMQ refused an event (nack)");
            }
        }
        Ok(())
    }
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://{host}"),
        _ => url.to_string(),
    }
}

async fn declare_exchange(channel: &Channel, exchange: &str) -> anyhow::Result<()> {
    let options = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
    channel.exchange_declare(exchange.into(), ExchangeKind::Topic, options, FieldTable::default()).await?;
    Ok(())
}

async fn close(channel: Channel) {
    let _ = channel.close(200, "done".into()).await;
}

fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() }
}

/// A replica's own queue: its messages expire back onto the exchange under the handover's
/// routing key, for another replica to take. Its bindings never change, so no ledger.
async fn declare_handing_over(channel: &Channel, exchange: &str, queue: &QueueSpec, handover: &Handover) -> anyhow::Result<()> {
    let millis = |d: Duration| AMQPValue::LongLongInt(i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let mut arguments = FieldTable::default();
    arguments.insert("x-message-ttl".into(), millis(handover.after));
    arguments.insert("x-expires".into(), millis(handover.expires));
    arguments.insert("x-dead-letter-exchange".into(), AMQPValue::LongString(exchange.into()));
    arguments.insert("x-dead-letter-routing-key".into(), AMQPValue::LongString(handover.routing_key.as_str().into()));
    channel.queue_declare(queue.name.as_str().into(), durable(), arguments).await?;
    for pattern in &queue.patterns {
        channel
            .queue_bind(queue.name.as_str().into(), exchange.into(), pattern.as_str().into(), QueueBindOptions::default(), FieldTable::default())
            .await
            .with_context(|| format!("failed to bind {:?} to {pattern:?}", queue.name))?;
    }
    Ok(())
}

/// The delay queue for one retry delay. Named by the delay, since a queue's TTL cannot change.
fn retry_queue(queue: &str, delay: Duration) -> String {
    format!("{queue}.retry.{}ms", delay.as_millis())
}

#[async_trait]
impl Broker for RabbitBroker {
    fn name(&self) -> &'static str {
        "rabbitmq"
    }

    async fn publish(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let channel = self.publisher().await?;
        let published = self.publish_on(&channel, events).await;
        if published.is_err() {
            // A channel that failed mid-publish is not trusted again.
            *self.publisher.lock().await = None;
        }
        published
    }

    async fn declare(&self, queue: &QueueSpec) -> anyhow::Result<()> {
        let channel = self.channel().await?;
        declare_exchange(&channel, &self.exchange).await?;
        if let Some(handover) = &queue.handover {
            declare_handing_over(&channel, &self.exchange, queue, handover).await?;
            close(channel).await;
            return Ok(());
        }
        channel.queue_declare(queue.name.as_str().into(), durable(), FieldTable::default()).await?;
        super::rabbitmq_bindings::bind_exactly(&channel, &self.exchange, &queue.name, &queue.patterns).await?;
        for delay in &queue.retry_delays {
            let mut arguments = FieldTable::default();
            let ttl = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
            arguments.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl));
            arguments.insert("x-dead-letter-exchange".into(), AMQPValue::LongString("".into()));
            arguments.insert("x-dead-letter-routing-key".into(), AMQPValue::LongString(queue.name.as_str().into()));
            channel.queue_declare(retry_queue(&queue.name, *delay).as_str().into(), durable(), arguments).await?;
        }
        channel.queue_declare(queue.dead_letter_queue().as_str().into(), durable(), FieldTable::default()).await?;
        close(channel).await;
        Ok(())
    }

    async fn consume(&self, queue: &QueueSpec) -> anyhow::Result<Box<dyn Deliveries>> {
        let channel = self.channel().await?;
        channel.basic_qos(queue.prefetch, BasicQosOptions::default()).await?;
        let consumer = channel
            .basic_consume(
                queue.name.as_str().into(),
                format!("joule-{}", uuid::Uuid::new_v4().simple()).as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        // Retries and dead letters are published on a confirm channel of their own.
        let settler = self.channel().await?;
        settler.confirm_select(ConfirmSelectOptions::default()).await?;
        let retry_queues = Arc::new(queue.retry_delays.iter().map(|d| (*d, retry_queue(&queue.name, *d))).collect());
        Ok(Box::new(RabbitDeliveries {
            consumer,
            _channel: channel,
            settler,
            retry_queues,
            dead_letters: queue.dead_letter_queue().into(),
        }))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        close(self.channel().await?).await;
        Ok(())
    }
}

struct RabbitDeliveries {
    consumer: lapin::Consumer,
    _channel: Channel,
    settler: Channel,
    // Shared with each delivery's settle, which needs them only when it retries or fails.
    retry_queues: Arc<BTreeMap<Duration, String>>,
    dead_letters: Arc<str>,
}

fn header_u32(properties: &BasicProperties, name: &str) -> Option<u32> {
    let value = properties.headers().as_ref()?.inner().get(name)?;
    let number = match value {
        AMQPValue::ShortShortInt(v) => i64::from(*v),
        AMQPValue::ShortInt(v) => i64::from(*v),
        AMQPValue::LongInt(v) => i64::from(*v),
        AMQPValue::LongLongInt(v) => *v,
        AMQPValue::ShortShortUInt(v) => i64::from(*v),
        AMQPValue::ShortUInt(v) => i64::from(*v),
        AMQPValue::LongUInt(v) => i64::from(*v),
        _ => return None,
    };
    u32::try_from(number).ok()
}

#[async_trait]
impl Deliveries for RabbitDeliveries {
    async fn next(&mut self) -> anyhow::Result<Delivery> {
        let delivery = match self.consumer.next().await {
            Some(Ok(delivery)) => delivery,
            Some(Err(e)) => bail!("the RabbitMQ consumer failed: {e}"),
            None => bail!("the RabbitMQ consumer was cancelled"),
        };
        let attempt = header_u32(&delivery.properties, ATTEMPT_HEADER).unwrap_or(1);
        let body = delivery.data.clone();
        let settle = RabbitSettle {
            delivery,
            settler: self.settler.clone(),
            retry_queues: self.retry_queues.clone(),
            dead_letters: self.dead_letters.clone(),
        };
        Ok(Delivery { body, attempt, settle: Box::new(settle) })
    }
}

struct RabbitSettle {
    delivery: lapin::message::Delivery,
    settler: Channel,
    retry_queues: Arc<BTreeMap<Duration, String>>,
    dead_letters: Arc<str>,
}

impl RabbitSettle {
    /// Publishes a copy to `queue` with `headers` added, waits for the confirm, then acks
    /// the original: a crash in between delivers it twice, never loses it.
    async fn move_to(self, queue: &str, extra: Vec<(&str, AMQPValue)>) -> anyhow::Result<()> {
        let mut headers = self.delivery.properties.headers().clone().unwrap_or_default();
        for (name, value) in extra {
            headers.insert(name.into(), value);
        }
        let properties = self.delivery.properties.clone().with_headers(headers).with_delivery_mode(PERSISTENT);
        let confirm = self
            .settler
            .basic_publish("".into(), queue.into(), BasicPublishOptions::default(), &self.delivery.data, properties)
            .await?
            .await?;
        if let Confirmation::Nack(_) = confirm {
            bail!("RabbitMQ refused to take the message into {queue}");
        }
        self.delivery.ack(BasicAckOptions::default()).await?;
        Ok(())
    }
}

#[async_trait]
impl Settle for RabbitSettle {
    async fn ack(self: Box<Self>) -> anyhow::Result<()> {
        self.delivery.ack(BasicAckOptions::default()).await?;
        Ok(())
    }

    async fn retry(self: Box<Self>, attempt: u32, delay: Duration) -> anyhow::Result<()> {
        // The declared delay queue nearest above the wanted delay.
        let queue = self
            .retry_queues
            .range(delay..)
            .next()
            .or_else(|| self.retry_queues.iter().next_back())
            .map(|(_, queue)| queue.clone())
            .context("the queue was declared without retry delays")?;
        self.move_to(&queue, vec![(ATTEMPT_HEADER, AMQPValue::LongLongInt(i64::from(attempt)))]).await
    }

    async fn dead_letter(self: Box<Self>, reason: &str, attempts: u32) -> anyhow::Result<()> {
        let queue = self.dead_letters.clone();
        let headers = vec![
            (REASON_HEADER, AMQPValue::LongString(reason.into())),
            (ATTEMPTS_HEADER, AMQPValue::LongLongInt(i64::from(attempts))),
        ];
        self.move_to(&queue, headers).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(redacted("amqp://guest:secret@rabbit:5672/%2f"), "amqp://rabbit:5672/%2f");
        assert_eq!(redacted("amqp://rabbit"), "amqp://rabbit");
    }

    #[test]
    fn retry_queues_are_named_by_their_delay() {
        assert_eq!(retry_queue("joule.app.x", Duration::from_millis(1500)), "joule.app.x.retry.1500ms");
    }
}
