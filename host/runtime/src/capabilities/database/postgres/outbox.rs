//! The Postgres outbox: `joule.outbox`, claimed by relays with `SKIP LOCKED`, so several
//! replicas never send the same row twice while a claim lasts.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::Row as _;
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::Notify;

use crate::events::{Envelope, Outbox, OutboxKey, Pending};

/// The channel `joule_api.publish` notifies on commit.
const CHANNEL: &str = "joule_outbox";

pub(super) struct PostgresOutbox {
    admin: PgPool,
}

impl PostgresOutbox {
    /// Also listens for other replicas' commits and wakes `signal` on each.
    pub(super) fn new(admin: PgPool, signal: Arc<Notify>) -> Self {
        tokio::spawn(listen(admin.clone(), signal));
        Self { admin }
    }
}

async fn listen(admin: PgPool, signal: Arc<Notify>) {
    loop {
        let listened = async {
            let mut listener = PgListener::connect_with(&admin).await?;
            listener.listen(CHANNEL).await?;
            loop {
                listener.recv().await?;
                signal.notify_one();
            }
        };
        let result: Result<(), sqlx::Error> = listened.await;
        if let Err(e) = result {
            tracing::debug!(error = %e, "the outbox listener stopped; the relay polls meanwhile");
        }
        // Whatever was notified while the listener was down is found by polling.
        signal.notify_one();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[async_trait]
impl Outbox for PostgresOutbox {
    async fn claim(&self, limit: usize, lease: Duration) -> anyhow::Result<Vec<Pending>> {
        let rows = sqlx::query(
            "UPDATE outbox SET claimed_until = now() + $2 * interval '1 millisecond'
             WHERE seq IN (SELECT seq FROM outbox
                           WHERE claimed_until IS NULL OR claimed_until < now()
                           ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING seq, id, source, type, data, time, correlation_id, traceparent",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
        .fetch_all(&self.admin)
        .await?;
        let mut pending: Vec<Pending> = rows
            .into_iter()
            .map(|row| {
                let component: String = row.get("source");
                let time: DateTime<Utc> = row.get("time");
                let mut envelope = Envelope::new(
                    row.get("id"),
                    &component,
                    row.get::<&str, _>("type"),
                    row.get::<sqlx::types::Json<serde_json::Value>, _>("data").0,
                    row.get("correlation_id"),
                    row.get("traceparent"),
                );
                envelope.time = time.to_rfc3339_opts(SecondsFormat::Micros, true);
                Pending { key: OutboxKey { component, seq: row.get("seq") }, envelope }
            })
            .collect();
        // RETURNING does not keep the subquery's order.
        pending.sort_by_key(|p| p.key.seq);
        Ok(pending)
    }

    async fn remove(&self, sent: &[OutboxKey]) -> anyhow::Result<()> {
        let seqs: Vec<i64> = sent.iter().map(|k| k.seq).collect();
        sqlx::query("DELETE FROM outbox WHERE seq = ANY($1)").bind(&seqs).execute(&self.admin).await?;
        Ok(())
    }

    async fn backlog(&self) -> anyhow::Result<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&self.admin).await?;
        Ok(u64::try_from(count)?)
    }
}
