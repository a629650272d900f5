//! Events per second from publish to the handler's commit, and what the broker and the
//! database do alone, to set them beside: a plain lapin loop, and a plain Postgres loop of
//! the transaction each event commits.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::{StreamExt as _, TryStreamExt as _};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use redis::AsyncCommands as _;
use sqlx::Executor as _;
use sqlx::postgres::PgPoolOptions;

use crate::host::Host;

/// Events per request, and requests in flight at once.
const PER_REQUEST: usize = 100;
const CONCURRENT: usize = 4;

/// Publishes `total` events through the publisher component and waits until the recorder
/// has committed all of them; returns events per second.
pub fn pipeline(host: &Host, total: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..CONCURRENT)
            .map(|worker| {
                scope.spawn(move || -> anyhow::Result<()> {
                    for _ in (worker..total / PER_REQUEST).step_by(CONCURRENT) {
                        let body = serde_json::json!({ "type": "test.event.v1", "count": PER_REQUEST, "data": { "behavior": "ok" } });
                        let (status, text) = host.request("POST", "/publisher/events", Some(&body))?;
                        if status != 201 {
                            bail!("publishing failed ({status}): {text}");
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("publisher thread")?;
        }
        Ok(())
    })?;
    // The host's metrics are cheap to read often; the recorder's summary, whose query grows
    // with every event, is read once they show every event handled, to confirm it.
    while handled(host)? < total as u64 {
        if started.elapsed() > Duration::from_secs(300) {
            bail!("only {} of {total} events were handled", handled(host)?);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    let (_, text) = host.request("GET", "/recorder/summary", None)?;
    let summary: serde_json::Value = serde_json::from_str(&text)?;
    if summary["events"].as_u64() != Some(total as u64) || summary["runs"].as_u64() != Some(total as u64) {
        bail!("the metrics counted {total} handled events, but the recorder holds {summary}");
    }
    Ok(total as f64 / elapsed.as_secs_f64())
}

/// Events the recorder handled and committed, from the host's `/metrics`.
fn handled(host: &Host) -> anyhow::Result<u64> {
    handled_by(host, "recorder")
}

/// Queue events `component` handled and committed, from the host's `/metrics`.
pub fn handled_by(host: &Host, component: &str) -> anyhow::Result<u64> {
    let (_, text) = host.admin("GET", "/metrics", b"")?;
    let component = format!("component=\"{component}\"");
    let counted = text
        .lines()
        .filter(|line| {
            line.starts_with("joule_invocations_total{")
                && [component.as_str(), "trigger=\"amqp\"", "outcome=\"handled\""].iter().all(|l| line.contains(l))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    Ok(counted)
}

/// A plain lapin loop: publishes `total` persistent messages with confirms while a consumer
/// with the same prefetch acknowledges them; returns messages per second.
pub fn plain_lapin(url: &str, total: usize) -> anyhow::Result<f64> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let connection = Connection::connect(url, ConnectionProperties::default()).await.context("connect to RabbitMQ")?;
        let queue = format!("joule-bench-{}", uuid::Uuid::new_v4().simple());
        let publisher = connection.create_channel().await?;
        let durable = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
        publisher.queue_declare(queue.as_str().into(), durable, FieldTable::default()).await?;
        publisher.confirm_select(ConfirmSelectOptions::default()).await?;
        let consumer_channel = connection.create_channel().await?;
        consumer_channel.basic_qos(32, BasicQosOptions::default()).await?;
        let mut consumer = consumer_channel
            .basic_consume(queue.as_str().into(), "bench".into(), BasicConsumeOptions::default(), FieldTable::default())
            .await?;
        let body = vec![b'x'; 400];
        let started = Instant::now();
        let consume = async {
            for _ in 0..total {
                let delivery = consumer.next().await.context("the consumer ended")??;
                delivery.ack(BasicAckOptions::default()).await?;
            }
            anyhow::Ok(())
        };
        let publish = async {
            for chunk in (0..total).collect::<Vec<_>>().chunks(PER_REQUEST) {
                let mut confirms = Vec::new();
                for _ in chunk {
                    let properties = BasicProperties::default().with_delivery_mode(2);
                    let confirm = publisher
                        .basic_publish("".into(), queue.as_str().into(), BasicPublishOptions::default(), &body, properties)
                        .await?;
                    confirms.push(confirm);
                }
                for confirm in confirms {
                    confirm.await?;
                }
            }
            anyhow::Ok(())
        };
        let (consumed, published) = tokio::join!(consume, publish);
        consumed?;
        published?;
        let rate = total as f64 / started.elapsed().as_secs_f64();
        publisher.queue_delete(queue.as_str().into(), QueueDeleteOptions::default()).await?;
        Ok(rate)
    })
}

/// Transactions at once in the Postgres loop: the host's default pool size, which bounds the
/// handlers' transactions in flight.
pub const POSTGRES_CLIENTS: usize = 10;

/// What Postgres does for each event the pipeline handles, without the host: one durable
/// transaction that records the event id in an inbox and inserts the handler's row, in the
/// same three round trips (`BEGIN`, inbox record and savepoint in one batch; the insert;
/// `COMMIT`), from as many clients as the host's pool holds. Returns transactions per second.
pub fn plain_postgres(database_url: &str, total: usize) -> anyhow::Result<f64> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_CLIENTS as u32)
            .connect(database_url)
            .await
            .with_context(|| format!("connect to {database_url}"))?;
        pool.execute(
            "CREATE TABLE inbox (consumer TEXT NOT NULL, event_id TEXT NOT NULL,
                                 received_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (consumer, event_id));
             CREATE TABLE runs (event_id TEXT NOT NULL, event_type TEXT NOT NULL, source TEXT NOT NULL,
                                attempt INTEGER NOT NULL, correlation_id TEXT, traceparent TEXT)",
        )
        .await?;
        let next = AtomicUsize::new(0);
        let started = Instant::now();
        let clients = (0..POSTGRES_CLIENTS).map(|_| async {
            let mut connection = pool.acquire().await?;
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let id = uuid::Uuid::now_v7().to_string();
                let begin = format!(
                    "BEGIN READ WRITE; INSERT INTO inbox (consumer, event_id) VALUES ('recorder', '{id}') ON CONFLICT DO NOTHING; SAVEPOINT s"
                );
                connection.execute(begin.as_str()).await?;
                sqlx::query("INSERT INTO runs VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&id)
                    .bind("test.event.v1")
                    .bind("publisher")
                    .bind(1)
                    .bind(&id)
                    .bind("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                    .execute(&mut *connection)
                    .await?;
                connection.execute("COMMIT").await?;
            }
            anyhow::Ok(())
        });
        futures::future::try_join_all(clients).await?;
        Ok(total as f64 / started.elapsed().as_secs_f64())
    })
}

/// Removes the queues, exchange and keys a benchmark host made under `namespace`.
pub fn delete_namespace(amqp_url: &str, redis_url: &str, namespace: &str) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let redis = redis::Client::open(redis_url).context("JOULE_BENCH_REDIS_URL")?;
        let mut redis = redis.get_multiplexed_async_connection().await.context("connect to Redis")?;
        let keys: Vec<String> = redis.scan_match(format!("{namespace}:*")).await?.try_collect().await?;
        for batch in keys.chunks(1000) {
            redis.del::<_, ()>(batch).await?;
        }
        let connection = Connection::connect(amqp_url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        let queue = format!("{namespace}.joule-events.recorder");
        for name in [format!("{queue}.dlq"), format!("{queue}.retry.200ms"), format!("{queue}.retry.400ms"), queue] {
            channel.queue_delete(name.as_str().into(), QueueDeleteOptions::default()).await?;
        }
        channel.exchange_delete(format!("{namespace}.events").as_str().into(), Default::default()).await?;
        anyhow::Ok(())
    })
}
