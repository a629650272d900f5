//! The registry in the platform's Postgres schema. An activation sends a NOTIFY in the same
//! transaction, so other replicas hear of it exactly when it commits.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgPool, PgRow};
use sqlx::{Postgres, Row as _};

use super::{ChangeFeed, Decision, NewVersion, Register, Registered, StoreError, VersionRecord, VersionStore};

/// The channel activations are announced on; the payload is the application's name.
const CHANNEL: &str = "joule_component_versions";

const RECORD: &str = "component, version, sha256, octet_length(wasm)::BIGINT AS size, deployed_by, deployed_at, active, activated_at";

pub struct PostgresVersions {
    pool: PgPool,
    application: String,
}

impl PostgresVersions {
    /// `pool` is the platform's own pool, whose search path is the platform schema.
    pub fn new(pool: PgPool, application: &str) -> Self {
        Self { pool, application: application.to_string() }
    }

    async fn record(
        &self,
        executor: impl sqlx::Executor<'_, Database = Postgres>,
        component: &str,
        version: u32,
    ) -> Result<VersionRecord, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RECORD} FROM component_versions WHERE application = $1 AND component = $2 AND version = $3"
        ))
        .bind(&self.application)
        .bind(component)
        .bind(version as i32)
        .fetch_one(executor)
        .await?;
        record(&row)
    }

    /// Starts a transaction holding this component's registry lock, so replicas deploying
    /// at once take turns.
    async fn lock(&self, component: &str) -> Result<sqlx::Transaction<'static, Postgres>, StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("joule.component_versions/{}/{component}", self.application))
            .execute(&mut *transaction)
            .await?;
        Ok(transaction)
    }

    /// Makes `version` the active one and tells the other replicas, inside `transaction`.
    async fn switch(&self, transaction: &mut sqlx::Transaction<'static, Postgres>, component: &str, version: u32) -> Result<(), StoreError> {
        // Two statements: the unique index on the active version is checked row by row.
        sqlx::query("UPDATE component_versions SET active = false WHERE application = $1 AND component = $2 AND active")
            .bind(&self.application)
            .bind(component)
            .execute(&mut **transaction)
            .await?;
        sqlx::query(
            "UPDATE component_versions SET active = true, activated_at = clock_timestamp()
             WHERE application = $1 AND component = $2 AND version = $3",
        )
        .bind(&self.application)
        .bind(component)
        .bind(version as i32)
        .execute(&mut **transaction)
        .await?;
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&self.application).execute(&mut **transaction).await?;
        Ok(())
    }
}

fn record(row: &PgRow) -> Result<VersionRecord, StoreError> {
    Ok(VersionRecord {
        component: row.try_get("component")?,
        version: row.try_get::<i32, _>("version")? as u32,
        sha256: row.try_get("sha256")?,
        size: row.try_get::<i64, _>("size")? as u64,
        deployed_by: row.try_get("deployed_by")?,
        deployed_at: row.try_get::<DateTime<Utc>, _>("deployed_at")?,
        active: row.try_get("active")?,
        activated_at: row.try_get("activated_at")?,
    })
}

#[async_trait]
impl VersionStore for PostgresVersions {
    async fn register(&self, new: NewVersion<'_>, when: Register) -> Result<Registered, StoreError> {
        let mut transaction = self.lock(new.component).await?;
        let stored: Vec<(u32, String, bool)> = sqlx::query_as::<_, (i32, String, bool)>(
            "SELECT version, sha256, active FROM component_versions WHERE application = $1 AND component = $2",
        )
        .bind(&self.application)
        .bind(new.component)
        .fetch_all(&mut *transaction)
        .await?
        .into_iter()
        .map(|(version, sha, active)| (version as u32, sha, active))
        .collect();
        let (version, created) = match super::decide(&stored, new.sha256, when) {
            Decision::Keep(version) => (version, false),
            Decision::Create(version) => {
                sqlx::query(
                    "INSERT INTO component_versions (application, component, version, sha256, wasm, deployed_by)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&self.application)
                .bind(new.component)
                .bind(version as i32)
                .bind(new.sha256)
                .bind(new.wasm)
                .bind(new.deployed_by)
                .execute(&mut *transaction)
                .await?;
                self.switch(&mut transaction, new.component, version).await?;
                (version, true)
            }
        };
        let active = self.record(&mut *transaction, new.component, version).await?;
        transaction.commit().await?;
        Ok(Registered { active, created })
    }

    async fn activate(&self, component: &str, version: u32) -> Result<VersionRecord, StoreError> {
        let mut transaction = self.lock(component).await?;
        let exists: Option<i32> = sqlx::query_scalar(
            "SELECT version FROM component_versions WHERE application = $1 AND component = $2 AND version = $3",
        )
        .bind(&self.application)
        .bind(component)
        .bind(version as i32)
        .fetch_optional(&mut *transaction)
        .await?;
        if exists.is_none() {
            return Err(StoreError::UnknownVersion { component: component.to_string(), version });
        }
        self.switch(&mut transaction, component, version).await?;
        let record = self.record(&mut *transaction, component, version).await?;
        transaction.commit().await?;
        Ok(record)
    }

    async fn active(&self) -> Result<Vec<VersionRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RECORD} FROM component_versions WHERE application = $1 AND active ORDER BY component"
        ))
        .bind(&self.application)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record).collect()
    }

    async fn versions(&self, component: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RECORD} FROM component_versions WHERE application = $1 AND component = $2 ORDER BY version DESC"
        ))
        .bind(&self.application)
        .bind(component)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record).collect()
    }

    async fn wasm(&self, component: &str, version: u32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT wasm FROM component_versions WHERE application = $1 AND component = $2 AND version = $3",
        )
        .bind(&self.application)
        .bind(component)
        .bind(version as i32)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn changes(&self) -> Result<Option<Box<dyn ChangeFeed>>, StoreError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(Box::new(Notifications { listener, application: self.application.clone() })))
    }
}

struct Notifications {
    listener: PgListener,
    application: String,
}

#[async_trait]
impl ChangeFeed for Notifications {
    async fn next(&mut self) -> Result<(), StoreError> {
        loop {
            // `None`: the connection was lost and is re-established on the next call;
            // notifications sent meanwhile are gone, so report a change.
            match self.listener.try_recv().await? {
                None => return Ok(()),
                Some(notification) if notification.payload() == self.application => return Ok(()),
                Some(_) => {}
            }
        }
    }
}
