//! The registry in the embedded `platform.db`. The state directory belongs to one process,
//! so there are no other replicas to tell.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, Sqlite};

use super::{ChangeFeed, Decision, NewVersion, Register, Registered, StoreError, VersionRecord, VersionStore};
use crate::embedded::LocalStore;

const RECORD: &str = "component, version, sha256, length(wasm) AS size, deployed_by, deployed_at, active, activated_at";

pub struct SqliteVersions {
    store: LocalStore,
    application: String,
}

impl SqliteVersions {
    pub fn new(store: LocalStore, application: &str) -> Self {
        Self { store, application: application.to_string() }
    }

    async fn record(
        &self,
        executor: impl sqlx::Executor<'_, Database = Sqlite>,
        component: &str,
        version: u32,
    ) -> Result<VersionRecord, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RECORD} FROM component_versions WHERE application = ? AND component = ? AND version = ?"
        ))
        .bind(&self.application)
        .bind(component)
        .bind(version)
        .fetch_one(executor)
        .await?;
        record(&row)
    }

    async fn switch(&self, transaction: &mut sqlx::Transaction<'static, Sqlite>, component: &str, version: u32) -> Result<(), StoreError> {
        // Two statements, since the unique index on the active version is checked per row.
        sqlx::query("UPDATE component_versions SET active = 0 WHERE application = ? AND component = ? AND active")
            .bind(&self.application)
            .bind(component)
            .execute(&mut **transaction)
            .await?;
        sqlx::query(
            "UPDATE component_versions SET active = 1, activated_at = ? WHERE application = ? AND component = ? AND version = ?",
        )
        .bind(Utc::now().timestamp_millis())
        .bind(&self.application)
        .bind(component)
        .bind(version)
        .execute(&mut **transaction)
        .await?;
        Ok(())
    }
}

fn record(row: &SqliteRow) -> Result<VersionRecord, StoreError> {
    let deployed_at = row.try_get::<i64, _>("deployed_at")?;
    Ok(VersionRecord {
        component: row.try_get("component")?,
        version: row.try_get("version")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get::<i64, _>("size")? as u64,
        deployed_by: row.try_get("deployed_by")?,
        deployed_at: DateTime::from_timestamp_millis(deployed_at).unwrap_or_default(),
        active: row.try_get("active")?,
        activated_at: row.try_get::<Option<i64>, _>("activated_at")?.and_then(DateTime::from_timestamp_millis),
    })
}

#[async_trait]
impl VersionStore for SqliteVersions {
    async fn register(&self, new: NewVersion<'_>, when: Register) -> Result<Registered, StoreError> {
        // The writer pool has one connection, so registrations take turns.
        let mut transaction = self.store.file().writer.begin().await?;
        let stored: Vec<(u32, String, bool)> =
            sqlx::query_as("SELECT version, sha256, active FROM component_versions WHERE application = ? AND component = ?")
                .bind(&self.application)
                .bind(new.component)
                .fetch_all(&mut *transaction)
                .await?;
        let (version, created) = match super::decide(&stored, new.sha256, when) {
            Decision::Keep(version) => (version, false),
            Decision::Create(version) => {
                sqlx::query(
                    "INSERT INTO component_versions (application, component, version, sha256, wasm, deployed_by, deployed_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&self.application)
                .bind(new.component)
                .bind(version)
                .bind(new.sha256)
                .bind(new.wasm)
                .bind(new.deployed_by)
                .bind(Utc::now().timestamp_millis())
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
        let mut transaction = self.store.file().writer.begin().await?;
        let exists: Option<u32> =
            sqlx::query_scalar("SELECT version FROM component_versions WHERE application = ? AND component = ? AND version = ?")
                .bind(&self.application)
                .bind(component)
                .bind(version)
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
            "SELECT {RECORD} FROM component_versions WHERE application = ? AND active ORDER BY component"
        ))
        .bind(&self.application)
        .fetch_all(&self.store.file().readers)
        .await?;
        rows.iter().map(record).collect()
    }

    async fn versions(&self, component: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RECORD} FROM component_versions WHERE application = ? AND component = ? ORDER BY version DESC"
        ))
        .bind(&self.application)
        .bind(component)
        .fetch_all(&self.store.file().readers)
        .await?;
        rows.iter().map(record).collect()
    }

    async fn wasm(&self, component: &str, version: u32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT wasm FROM component_versions WHERE application = ? AND component = ? AND version = ?")
            .bind(&self.application)
            .bind(component)
            .bind(version)
            .fetch_optional(&self.store.file().readers)
            .await?)
    }

    async fn changes(&self) -> Result<Option<Box<dyn ChangeFeed>>, StoreError> {
        Ok(None)
    }
}
