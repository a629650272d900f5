//! The embedded timers: a table in each component's own SQLite file, so a timer commits with
//! the component's SQL. One process owns the files; its claims still set `fire_at`, so a
//! timer being delivered is not claimed again by the next pass.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::embedded::SqliteFile;
use crate::timers::{DeadTimer, DueTimer, ScheduleRow, Settle, TimerStore, sortable};

/// What a claim returns and a dead timer keeps of a timer; the component is the file's owner.
const COLUMNS: &str = "id, key, schedule, event_type, data, due_at, correlation_id, traceparent, actor, attempts";

#[derive(Default)]
pub(super) struct SqliteTimers {
    files: Mutex<Vec<(String, SqliteFile)>>,
}

impl SqliteTimers {
    pub(super) fn register(&self, component: &str, file: SqliteFile) {
        let mut files = self.files.lock().expect("timer registry lock");
        files.retain(|(registered, _)| registered != component);
        files.push((component.to_string(), file));
    }

    fn snapshot(&self) -> Vec<(String, SqliteFile)> {
        self.files.lock().expect("timer registry lock").clone()
    }

    fn file(&self, component: &str) -> anyhow::Result<SqliteFile> {
        let files = self.files.lock().expect("timer registry lock");
        let found = files.iter().find(|(registered, _)| registered == component);
        found.map(|(_, file)| file.clone()).ok_or_else(|| anyhow::anyhow!("component {component:?} has no database"))
    }
}

fn time(row: &SqliteRow, column: &str) -> anyhow::Result<DateTime<Utc>> {
    let text: &str = row.get(column);
    Ok(DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc))
}

fn due_timer(component: &str, row: &SqliteRow) -> anyhow::Result<DueTimer> {
    // A component can write its own file; data it broke is delivered as a JSON string.
    let data: &str = row.get("data");
    let data = serde_json::from_str(data).unwrap_or_else(|_| serde_json::Value::String(data.to_string()));
    Ok(DueTimer {
        component: component.to_string(),
        id: row.get("id"),
        key: row.get("key"),
        schedule: row.get("schedule"),
        event_type: row.get("event_type"),
        data,
        due_at: time(row, "due_at")?,
        correlation_id: row.get("correlation_id"),
        traceparent: row.get("traceparent"),
        actor: row.get("actor"),
        attempts: u32::try_from(row.get::<i64, _>("attempts")).unwrap_or_default(),
    })
}

/// After a delivery: the timer goes, or a schedule's row waits for its next tick.
async fn delivered(
    connection: &mut sqlx::SqliteConnection,
    id: &str,
    next_tick: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    match next_tick {
        None => sqlx::query("DELETE FROM _joule_timers WHERE id = $1").bind(id).execute(connection).await?,
        Some(tick) => {
            sqlx::query(
                "UPDATE _joule_timers SET id = $2, due_at = $3, fire_at = $3, attempts = 0, last_error = NULL
                 WHERE id = $1",
            )
            .bind(id)
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(sortable(tick))
            .execute(connection)
            .await?
        }
    };
    Ok(())
}

#[async_trait]
impl TimerStore for SqliteTimers {
    async fn next_due(&self) -> anyhow::Result<Option<Duration>> {
        let mut earliest: Option<DateTime<Utc>> = None;
        for (_, file) in self.snapshot() {
            let row = sqlx::query("SELECT min(fire_at) AS fire_at FROM _joule_timers").fetch_one(&file.readers).await?;
            if row.get::<Option<&str>, _>("fire_at").is_some() {
                let fire_at = time(&row, "fire_at")?;
                earliest = Some(earliest.map_or(fire_at, |e| e.min(fire_at)));
            }
        }
        Ok(earliest.map(|at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO)))
    }

    async fn claim(&self, limit: usize, lease: Duration) -> anyhow::Result<Vec<DueTimer>> {
        let now = Utc::now();
        let until = sortable(now + lease);
        let mut due = Vec::new();
        for (component, file) in self.snapshot() {
            let remaining = limit.saturating_sub(due.len());
            if remaining == 0 {
                break;
            }
            let mut transaction = file.writer.begin().await?;
            let rows = sqlx::query(&format!(
                "UPDATE _joule_timers SET fire_at = $3
                 WHERE id IN (SELECT id FROM _joule_timers WHERE fire_at <= $1 ORDER BY fire_at LIMIT $2)
                 RETURNING {COLUMNS}"
            ))
            .bind(sortable(now))
            .bind(i64::try_from(remaining).unwrap_or(i64::MAX))
            .bind(&until)
            .fetch_all(&mut *transaction)
            .await?;
            transaction.commit().await?;
            for row in &rows {
                due.push(due_timer(&component, row)?);
            }
        }
        due.sort_by_key(|timer| timer.due_at);
        Ok(due)
    }

    async fn settle(&self, timer: &DueTimer, settle: Settle) -> anyhow::Result<()> {
        let file = self.file(&timer.component)?;
        // One statement on its own for the usual outcomes; a dead timer moves in a transaction.
        match settle {
            Settle::Delivered { next_tick } => {
                let mut connection = file.writer.acquire().await?;
                delivered(&mut connection, &timer.id, next_tick).await?;
            }
            Settle::Retry { at, error, counted } => {
                sqlx::query("UPDATE _joule_timers SET fire_at = $2, attempts = attempts + $4, last_error = $3 WHERE id = $1")
                    .bind(&timer.id)
                    .bind(sortable(at))
                    .bind(error)
                    .bind(i32::from(counted))
                    .execute(&file.writer)
                    .await?;
            }
            Settle::Dead { error, next_tick } => {
                let mut transaction = file.writer.begin().await?;
                sqlx::query(
                    "INSERT INTO _joule_dead_timers (id, key, schedule, event_type, data, due_at,
                                                     correlation_id, traceparent, actor, attempts, error, died_at)
                     SELECT id, key, schedule, event_type, data, due_at, correlation_id, traceparent, actor,
                            attempts + 1, $2, $3
                     FROM _joule_timers WHERE id = $1
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(&timer.id)
                .bind(error)
                .bind(sortable(Utc::now()))
                .execute(&mut *transaction)
                .await?;
                delivered(&mut transaction, &timer.id, next_tick).await?;
                transaction.commit().await?;
            }
        }
        Ok(())
    }

    async fn keep_schedules(&self, component: &str, schedules: &[ScheduleRow]) -> anyhow::Result<()> {
        let file = self.file(component)?;
        let mut transaction = file.writer.begin().await?;
        let listed: Vec<&str> = schedules.iter().map(|s| s.schedule.as_str()).collect();
        let kept: Vec<String> = sqlx::query_scalar("SELECT schedule FROM _joule_timers WHERE schedule IS NOT NULL")
            .fetch_all(&mut *transaction)
            .await?;
        for gone in kept.iter().filter(|schedule| !listed.contains(&schedule.as_str())) {
            sqlx::query("DELETE FROM _joule_timers WHERE schedule = $1").bind(gone).execute(&mut *transaction).await?;
        }
        for row in schedules {
            let first_tick = sortable(row.first_tick);
            sqlx::query(
                "INSERT INTO _joule_timers (id, schedule, event_type, data, due_at, fire_at)
                 VALUES ($1, $2, $3, '{}', $4, $4)
                 ON CONFLICT (schedule) WHERE schedule IS NOT NULL DO NOTHING",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&row.schedule)
            .bind(&row.event_type)
            .bind(first_tick)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn pending(&self) -> anyhow::Result<u64> {
        let mut total = 0;
        for (_, file) in self.snapshot() {
            let count: i64 = sqlx::query_scalar("SELECT count(*) FROM _joule_timers").fetch_one(&file.readers).await?;
            total += u64::try_from(count)?;
        }
        Ok(total)
    }

    async fn dead(&self, limit: usize) -> anyhow::Result<Vec<DeadTimer>> {
        let mut dead = Vec::new();
        for (component, file) in self.snapshot() {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS}, error, died_at FROM _joule_dead_timers ORDER BY died_at DESC LIMIT $1"
            ))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&file.readers)
            .await?;
            for row in &rows {
                let timer = due_timer(&component, row)?;
                dead.push(DeadTimer { timer, error: row.get("error"), died_at: time(row, "died_at")? });
            }
        }
        dead.sort_by(|a, b| b.died_at.cmp(&a.died_at));
        dead.truncate(limit);
        Ok(dead)
    }
}
