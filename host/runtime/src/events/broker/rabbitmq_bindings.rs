//! A queue's bindings on RabbitMQ follow the manifest: patterns dropped from a trigger are
//! unbound, so a component stops receiving event types it no longer asks for.
//!
//! AMQP cannot list a queue's bindings (only the management plugin can, and it may be off), so
//! the patterns last bound are remembered in the broker itself: a durable ledger queue beside
//! the consumer's, `<queue>.bindings`, holding the bound patterns as a JSON array. Replicas
//! declaring at once may leave several entries; the union of them counts as bound.

use std::collections::BTreeSet;

use anyhow::Context as _;
use lapin::options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};

/// Binds `queue` to exactly `patterns` on `exchange`, unbinding what an earlier declaration
/// bound and the patterns no longer name.
pub(super) async fn bind_exactly(channel: &Channel, exchange: &str, queue: &str, patterns: &[String]) -> anyhow::Result<()> {
    let ledger = format!("{queue}.bindings");
    let durable = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
    channel.queue_declare(ledger.as_str().into(), durable, FieldTable::default()).await?;
    let (earlier, last_tag) = read_ledger(channel, &ledger).await?;
    for pattern in patterns {
        channel
            .queue_bind(queue.into(), exchange.into(), pattern.as_str().into(), QueueBindOptions::default(), FieldTable::default())
            .await
            .with_context(|| format!("failed to bind {queue:?} to {pattern:?}"))?;
    }
    for dropped in earlier.iter().filter(|pattern| !patterns.contains(pattern)) {
        channel
            .queue_unbind(queue.into(), exchange.into(), dropped.as_str().into(), FieldTable::default())
            .await
            .with_context(|| format!("failed to unbind {queue:?} from {dropped:?}"))?;
        tracing::info!(queue, pattern = %dropped, "unbound an event pattern the manifest no longer names");
    }
    let entry = serde_json::to_vec(patterns)?;
    let persistent = BasicProperties::default().with_delivery_mode(2);
    channel.basic_publish("".into(), ledger.as_str().into(), BasicPublishOptions::default(), &entry, persistent).await?;
    // The earlier entries go only now: were this cut short, they would still count.
    if let Some(tag) = last_tag {
        channel.basic_ack(tag, BasicAckOptions { multiple: true }).await?;
    }
    Ok(())
}

/// The union of the ledger's entries, and the tag of the last one taken.
async fn read_ledger(channel: &Channel, ledger: &str) -> anyhow::Result<(BTreeSet<String>, Option<u64>)> {
    let mut patterns = BTreeSet::new();
    let mut last_tag = None;
    while let Some(entry) = channel.basic_get(ledger.into(), BasicGetOptions { no_ack: false }).await? {
        last_tag = Some(entry.delivery.delivery_tag);
        match serde_json::from_slice::<Vec<String>>(&entry.delivery.data) {
            Ok(bound) => patterns.extend(bound),
            Err(e) => tracing::warn!(ledger, error = %e, "ignoring an unreadable bindings entry"),
        }
    }
    Ok((patterns, last_tag))
}
