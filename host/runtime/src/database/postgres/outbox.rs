//! The Postgres outbox: `joule.outbox`, claimed by relays with `SKIP LOCKED`, so several
//! replicas never send the same row twice while a claim lasts.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use joule_world::database::Error;
use sqlx::Row as _;
use sqlx::postgres::{PgConnection, PgPool};
use tokio::sync::Notify;

use super::listen::listen;
use super::values::map_error;

use crate::background::Background;
use crate::events::{Envelope, Outbox, OutboxKey, Pending};

/// The channel `joule_api.publish_all` notifies on commit.
const CHANNEL: &str = "joule_outbox";

pub(super) struct PostgresOutbox {
    admin: PgPool,
}

impl PostgresOutbox {
    /// Also listens for other replicas' commits and wakes `signal` on each.
    pub(super) fn new(admin: PgPool, signal: Arc<Notify>, background: &Background) -> Self {
        background.spawn_cancellable("outbox listener", listen(admin.clone(), CHANNEL, signal));
        Self { admin }
    }
}

/// Writes a unit of work's events to the outbox, in order, in one call on its connection.
/// The function takes the publisher from the session's role and checks its grants.
pub(super) async fn write(connection: &mut PgConnection, events: &[Envelope]) -> Result<(), Error> {
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let data: Vec<String> = events.iter().map(|e| e.data.to_string()).collect();
    let times: Vec<&str> = events.iter().map(|e| e.time.as_str()).collect();
    let correlation_ids: Vec<Option<&str>> = events.iter().map(|e| e.correlationid.as_deref()).collect();
    let traceparents: Vec<Option<&str>> = events.iter().map(|e| e.traceparent.as_deref()).collect();
    let actors: Vec<Option<&str>> = events.iter().map(|e| e.actor.as_deref()).collect();
    sqlx::query("SELECT joule_api.publish_all($1, $2, $3::jsonb[], $4::timestamptz[], $5, $6, $7)")
        .bind(ids)
        .bind(types)
        .bind(data)
        .bind(times)
        .bind(correlation_ids)
        .bind(traceparents)
        .bind(actors)
        .execute(connection)
        .await
        .map(drop)
        .map_err(map_error)
}

#[async_trait]
impl Outbox for PostgresOutbox {
    async fn claim(&self, limit: usize, lease: Duration) -> anyhow::Result<Vec<Pending>> {
        let rows = sqlx::query(
            // Key lookups of the claimed rows whatever the backlog: see the timers' claim.
            "UPDATE outbox SET claimed_until = now() + $2 * interval '1 millisecond'
             WHERE seq = ANY(ARRAY(SELECT seq FROM outbox
                                   WHERE claimed_until IS NULL OR claimed_until < now()
                                   ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED))
             RETURNING seq, id, source, type, data, time, correlation_id, traceparent, actor",
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
                envelope.actor = row.get("actor");
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
