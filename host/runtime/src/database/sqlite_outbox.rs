//! The embedded outbox: a table in each component's own SQLite file.
//!
//! A component's SQL can reach its own file, outbox included, so every row is checked
//! against the component's grants here, and the source is always the file's owner.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row as _;

use crate::embedded::SqliteFile;
use crate::events::{Envelope, Outbox, OutboxKey, Pending};

struct Entry {
    component: String,
    file: SqliteFile,
    publishes: BTreeSet<String>,
}

#[derive(Default)]
pub(super) struct SqliteOutbox {
    entries: Mutex<Vec<Entry>>,
}

impl SqliteOutbox {
    pub(super) fn register(&self, component: &str, file: SqliteFile, publishes: BTreeSet<String>) {
        let mut entries = self.entries.lock().expect("outbox registry lock");
        entries.retain(|e| e.component != component);
        entries.push(Entry { component: component.to_string(), file, publishes });
    }

    fn snapshot(&self) -> Vec<(String, SqliteFile, BTreeSet<String>)> {
        let entries = self.entries.lock().expect("outbox registry lock");
        entries.iter().map(|e| (e.component.clone(), e.file.clone(), e.publishes.clone())).collect()
    }
}

#[async_trait]
impl Outbox for SqliteOutbox {
    /// One relay owns these files, so nothing else can take a row: no lease is needed.
    async fn claim(&self, limit: usize, _lease: Duration) -> anyhow::Result<Vec<Pending>> {
        let mut pending = Vec::new();
        for (component, file, publishes) in self.snapshot() {
            let remaining = limit.saturating_sub(pending.len());
            if remaining == 0 {
                break;
            }
            let rows = sqlx::query(
                "SELECT seq, id, type, data, time, correlation_id, traceparent, actor FROM _joule_outbox ORDER BY seq LIMIT $1",
            )
            .bind(i64::try_from(remaining).unwrap_or(i64::MAX))
            .fetch_all(&file.readers)
            .await?;
            let mut forged = Vec::new();
            for row in rows {
                let seq: i64 = row.get("seq");
                let event_type: String = row.get("type");
                let data = serde_json::from_str(row.get::<&str, _>("data"));
                match data {
                    Ok(data) if publishes.contains(&event_type) => {
                        let mut envelope = Envelope::new(
                            row.get("id"),
                            &component,
                            &event_type,
                            data,
                            row.get("correlation_id"),
                            row.get("traceparent"),
                        );
                        envelope.time = row.get("time");
                        envelope.actor = row.get("actor");
                        pending.push(Pending { key: OutboxKey { component: component.clone(), seq }, envelope });
                    }
                    _ => {
                        tracing::warn!(component, event_type, seq, "dropping an outbox row the component may not publish");
                        forged.push(OutboxKey { component: component.clone(), seq });
                    }
                }
            }
            self.remove(&forged).await?;
        }
        Ok(pending)
    }

    async fn remove(&self, sent: &[OutboxKey]) -> anyhow::Result<()> {
        if sent.is_empty() {
            return Ok(());
        }
        for (component, file, _) in self.snapshot() {
            let seqs: Vec<i64> = sent.iter().filter(|k| k.component == component).map(|k| k.seq).collect();
            if seqs.is_empty() {
                continue;
            }
            let mut transaction = file.writer.begin().await?;
            for seq in seqs {
                sqlx::query("DELETE FROM _joule_outbox WHERE seq = $1").bind(seq).execute(&mut *transaction).await?;
            }
            transaction.commit().await?;
        }
        Ok(())
    }

    async fn backlog(&self) -> anyhow::Result<u64> {
        let mut total = 0;
        for (_, file, _) in self.snapshot() {
            let count: i64 = sqlx::query_scalar("SELECT count(*) FROM _joule_outbox").fetch_one(&file.readers).await?;
            total += u64::try_from(count)?;
        }
        Ok(total)
    }
}
