//! The embedded database backend: one SQLite file per component.
//!
//! Invocations that only read run on reader connections, on a WAL snapshot, in parallel.
//! The first write takes the file's single writer. A reader that turns out to write is
//! upgraded only if nothing was committed since its snapshot; otherwise what it read may
//! be stale and the unit of work fails with `conflict`, as a serializable database would.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::Notify;

use anyhow::Context as _;
use async_trait::async_trait;
use joule_world::database::{Error, RowSet, Value};
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{Arguments as _, Column as _, Executor as _, Row as _, Sqlite, Statement as _, TypeInfo as _, ValueRef as _};

use super::sql::{has_several_statements, looks_read_only};
use super::sqlite_outbox::SqliteOutbox;
use super::sqlite_timers::SqliteTimers;
use super::{ComponentDatabase, DatabaseBackend, OpenOptions, Output, Transaction};
use crate::background::Background;
use crate::events::{Envelope, Outbox};
use crate::timers::{NewTimer, TimerStore, sortable};
use crate::embedded::{SqliteFile, interrupt_at};
use crate::values;

/// Component databases as SQLite files in one directory.
pub struct SqliteBackend {
    dir: PathBuf,
    outbox: Arc<SqliteOutbox>,
    timers: Arc<SqliteTimers>,
}

impl SqliteBackend {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, outbox: Arc::default(), timers: Arc::default() }
    }
}

/// Columns the platform's tables gained later, added to files made before (SQLite has no
/// `ADD COLUMN IF NOT EXISTS`): the actor on whose behalf an event or timer was written.
const ADDED_COLUMNS: [(&str, &str); 3] = [("_joule_outbox", "actor"), ("_joule_timers", "actor"), ("_joule_dead_timers", "actor")];

/// The platform's tables, created in every component file: the outbox and inbox, and timers.
const PLATFORM_TABLES: [&str; 2] = [
    include_str!("../../../../migrations/sqlite-component/0001_outbox_inbox.sql"),
    include_str!("../../../../migrations/sqlite-component/0002_timers.sql"),
];

#[async_trait]
impl DatabaseBackend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    async fn open(&self, component: &str, options: &OpenOptions<'_>) -> anyhow::Result<Arc<dyn ComponentDatabase>> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("failed to create {}", self.dir.display()))?;
        let file = SqliteFile::open(&self.dir.join(format!("{component}.db"))).await?;
        for tables in PLATFORM_TABLES {
            sqlx::raw_sql(tables).execute(&file.writer).await.context("failed to create the platform's tables")?;
        }
        for (table, column) in ADDED_COLUMNS {
            let found: i64 = sqlx::query_scalar("SELECT count(*) FROM pragma_table_info($1) WHERE name = $2")
                .bind(table)
                .bind(column)
                .fetch_one(&file.writer)
                .await
                .with_context(|| format!("failed to read the columns of {table}"))?;
            if found == 0 {
                sqlx::raw_sql(&format!("ALTER TABLE {table} ADD COLUMN {column} TEXT"))
                    .execute(&file.writer)
                    .await
                    .with_context(|| format!("failed to add the column {column} to {table}"))?;
            }
        }
        self.outbox.register(component, file.clone(), options.publishes.clone());
        self.timers.register(component, file.clone());
        if let Some(dir) = options.migrations {
            let migrator = super::migrations(dir).await?;
            migrator.run(&file.writer).await.with_context(|| super::migration_failed(dir, component))?;
        }
        Ok(Arc::new(SqliteDatabase(Arc::new(Shared { file, commits: AtomicU64::new(0) }))))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        Ok(())
    }

    fn outbox(&self, _signal: Arc<Notify>, _: &Background) -> Arc<dyn Outbox> {
        self.outbox.clone()
    }

    /// One process owns the files, and its commits wake the trigger themselves.
    fn timers(&self, _signal: Arc<Notify>, _: &Background) -> Arc<dyn TimerStore> {
        self.timers.clone()
    }
}

struct Shared {
    file: SqliteFile,
    /// Bumped by every write transaction before it commits, so readers can tell
    /// whether their snapshot is still current when they want to write.
    commits: AtomicU64,
}

struct SqliteDatabase(Arc<Shared>);

impl ComponentDatabase for SqliteDatabase {
    /// The wait for a connection and every statement end at `deadline`.
    fn begin(&self, deadline: Instant) -> Box<dyn Transaction> {
        Box::new(SqliteTransaction { shared: self.0.clone(), mode: Mode::Idle, deadline })
    }
}

enum Mode {
    Idle,
    Reading { transaction: sqlx::Transaction<'static, Sqlite>, commits_seen: u64 },
    Writing(sqlx::Transaction<'static, Sqlite>),
}

struct SqliteTransaction {
    shared: Arc<Shared>,
    mode: Mode,
    deadline: Instant,
}

impl SqliteTransaction {
    async fn run(&mut self, statement: &str, params: &[Value], query: bool) -> Result<Output, Error> {
        if has_several_statements(statement) {
            return Err(Error::InvalidQuery("one call runs one statement; this holds several".into()));
        }
        if matches!(self.mode, Mode::Idle) {
            self.mode = if looks_read_only(statement) { self.begin_read().await? } else { self.begin_write().await? };
        }
        let connection: &mut SqliteConnection = match &mut self.mode {
            Mode::Reading { transaction, .. } | Mode::Writing(transaction) => transaction,
            Mode::Idle => unreachable!("a transaction was just begun"),
        };
        match run_on(connection, statement, params, query).await {
            Err(e) if is_read_only_error(&e) && matches!(self.mode, Mode::Reading { .. }) => {
                self.upgrade().await?;
                let Mode::Writing(transaction) = &mut self.mode else { unreachable!("just upgraded") };
                run_on(transaction, statement, params, query).await.map_err(map_error)
            }
            result => result.map_err(map_error),
        }
    }

    async fn begin_read(&self) -> Result<Mode, Error> {
        // Read the counter before the snapshot exists, so a commit in between is never missed.
        let commits_seen = self.shared.commits.load(Ordering::Acquire);
        let transaction = self.within(self.shared.file.readers.begin()).await?;
        Ok(Mode::Reading { transaction, commits_seen })
    }

    async fn begin_write(&self) -> Result<Mode, Error> {
        let transaction = self.within(self.shared.file.writer.begin_with("BEGIN IMMEDIATE")).await?;
        Ok(Mode::Writing(transaction))
    }

    /// Begins a transaction by the deadline (the single writer may be busy), and has its
    /// statements interrupted past it.
    async fn within(
        &self,
        begin: impl Future<Output = Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error>>,
    ) -> Result<sqlx::Transaction<'static, Sqlite>, Error> {
        let mut transaction =
            tokio::time::timeout_at(self.deadline.into(), begin).await.map_err(|_| Error::Timeout)?.map_err(map_error)?;
        interrupt_at(&mut transaction, self.deadline).await.map_err(map_error)?;
        Ok(transaction)
    }

    async fn upgrade(&mut self) -> Result<(), Error> {
        let Mode::Reading { commits_seen, .. } = self.mode else { return Ok(()) };
        let writing = self.begin_write().await?;
        if self.shared.commits.load(Ordering::Acquire) != commits_seen {
            return Err(Error::Conflict(
                "another invocation wrote to this database after this one read from it; retry the request".into(),
            ));
        }
        if let Mode::Reading { transaction, .. } = std::mem::replace(&mut self.mode, writing) {
            transaction.rollback().await.map_err(map_error)?;
        }
        Ok(())
    }
}

#[async_trait]
impl Transaction for SqliteTransaction {
    async fn query(&mut self, statement: &str, params: &[Value]) -> Result<RowSet, Error> {
        self.run(statement, params, true).await.map(Output::into_rows)
    }

    async fn execute(&mut self, statement: &str, params: &[Value]) -> Result<u64, Error> {
        self.run(statement, params, false).await.map(Output::into_count)
    }

    async fn commit(self: Box<Self>) -> Result<(), Error> {
        match self.mode {
            Mode::Idle => Ok(()),
            Mode::Reading { transaction, .. } => transaction.rollback().await.map_err(map_error),
            Mode::Writing(transaction) => {
                self.shared.commits.fetch_add(1, Ordering::AcqRel);
                transaction.commit().await.map_err(map_error)
            }
        }
    }

    async fn rollback(self: Box<Self>) -> Result<(), Error> {
        match self.mode {
            Mode::Idle => Ok(()),
            Mode::Reading { transaction, .. } | Mode::Writing(transaction) => {
                transaction.rollback().await.map_err(map_error)
            }
        }
    }

    async fn enqueue(&mut self, events: &[Envelope]) -> Result<(), Error> {
        for event in events {
            let params = [
                Value::Text(event.id.clone()),
                Value::Text(event.event_type.clone()),
                Value::Text(event.data.to_string()),
                Value::Text(event.time.clone()),
                event.correlationid.clone().map_or(Value::Null, Value::Text),
                event.traceparent.clone().map_or(Value::Null, Value::Text),
                event.actor.clone().map_or(Value::Null, Value::Text),
            ];
            self.execute(
                "INSERT INTO _joule_outbox (id, type, data, time, correlation_id, traceparent, actor)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &params,
            )
            .await?;
        }
        Ok(())
    }

    async fn record_delivery(&mut self, event_id: &str) -> Result<bool, Error> {
        let received_at = Value::Text(chrono::Utc::now().to_rfc3339());
        let inserted = self
            .execute(
                "INSERT INTO _joule_inbox (event_id, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[Value::Text(event_id.to_string()), received_at],
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn schedule_timer(&mut self, timer: &NewTimer) -> Result<(), Error> {
        let text = |value: &Option<String>| value.clone().map_or(Value::Null, Value::Text);
        let due_at = sortable(timer.due_at);
        let params = [
            Value::Text(timer.id.clone()),
            text(&timer.key),
            Value::Text(timer.event_type.clone()),
            Value::Text(timer.data.to_string()),
            Value::Text(due_at.clone()),
            Value::Text(due_at),
            text(&timer.correlation_id),
            text(&timer.traceparent),
            text(&timer.actor),
        ];
        let statement = if timer.key.is_some() {
            "INSERT INTO _joule_timers (id, key, event_type, data, due_at, fire_at, correlation_id, traceparent, actor)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (key) WHERE key IS NOT NULL DO UPDATE SET
                 id = excluded.id, event_type = excluded.event_type, data = excluded.data,
                 due_at = excluded.due_at, fire_at = excluded.fire_at, correlation_id = excluded.correlation_id,
                 traceparent = excluded.traceparent, actor = excluded.actor, attempts = 0, last_error = NULL"
        } else {
            "INSERT INTO _joule_timers (id, key, event_type, data, due_at, fire_at, correlation_id, traceparent, actor)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        };
        self.execute(statement, &params).await.map(drop)
    }

    async fn cancel_timer(&mut self, key: &str) -> Result<bool, Error> {
        let removed = self.execute("DELETE FROM _joule_timers WHERE key = $1", &[Value::Text(key.to_string())]).await?;
        Ok(removed > 0)
    }
}

async fn run_on(
    connection: &mut SqliteConnection,
    statement: &str,
    params: &[Value],
    query: bool,
) -> Result<Output, sqlx::Error> {
    let arguments = bind(params)?;
    if !query {
        let result = sqlx::query_with(statement, arguments).execute(&mut *connection).await?;
        return Ok(Output::Affected(result.rows_affected()));
    }
    // Preparing (cached per connection) gives the column names even when no row comes back.
    let prepared = connection.prepare(statement).await?;
    let columns = prepared.columns().iter().map(|c| c.name().to_string()).collect();
    let rows = prepared.query_with(arguments).fetch_all(&mut *connection).await?;
    let rows = rows.iter().map(row_values).collect::<Result<_, _>>()?;
    Ok(Output::Rows(RowSet { columns, rows }))
}

/// SQLite has no timestamp, uuid or json types: such values are stored in their
/// canonical text form, which sorts and compares correctly.
fn bind(params: &[Value]) -> Result<SqliteArguments<'static>, sqlx::Error> {
    let mut arguments = SqliteArguments::default();
    for (i, param) in params.iter().enumerate() {
        let invalid = |e: String| sqlx::Error::Encode(format!("parameter ${}: {e}", i + 1).into());
        let added = match param {
            Value::Null => arguments.add(None::<i64>),
            Value::Int(v) => arguments.add(*v),
            Value::Float(v) => arguments.add(*v),
            Value::Boolean(v) => arguments.add(i64::from(*v)),
            Value::Text(v) => arguments.add(v.clone()),
            Value::Bytes(v) => arguments.add(v.clone()),
            Value::Decimal(v) => arguments.add(values::decimal(v).map_err(invalid)?.to_string()),
            Value::Timestamp(v) => arguments.add(values::timestamp_text(v).map_err(invalid)?),
            Value::Date(v) => arguments.add(values::date(v).map_err(invalid)?.to_string()),
            Value::Json(v) => arguments.add(values::json_text(v).map_err(invalid)?),
            Value::Uuid(v) => arguments.add(values::uuid(v).map_err(invalid)?.to_string()),
        };
        added.map_err(sqlx::Error::Encode)?;
    }
    Ok(arguments)
}

fn row_values(row: &SqliteRow) -> Result<Vec<Value>, sqlx::Error> {
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let kind = raw.type_info().name().to_string();
            Ok(match kind.as_str() {
                "INTEGER" => Value::Int(row.try_get_unchecked(i)?),
                "REAL" => Value::Float(row.try_get_unchecked(i)?),
                "BLOB" => Value::Bytes(row.try_get_unchecked(i)?),
                _ => Value::Text(row.try_get_unchecked(i)?),
            })
        })
        .collect()
}

fn sqlite_code(error: &sqlx::Error) -> Option<i32> {
    match error {
        sqlx::Error::Database(e) => e.code()?.parse().ok(),
        _ => None,
    }
}

fn is_read_only_error(error: &sqlx::Error) -> bool {
    const SQLITE_READONLY: i32 = 8;
    sqlite_code(error).is_some_and(|code| code & 0xff == SQLITE_READONLY)
}

fn map_error(error: sqlx::Error) -> Error {
    const SQLITE_BUSY: i32 = 5;
    const SQLITE_INTERRUPT: i32 = 9;
    const SQLITE_AUTH: i32 = 23;
    if let sqlx::Error::Database(e) = &error {
        let message = e.message().to_string();
        if !matches!(e.kind(), sqlx::error::ErrorKind::Other) {
            return Error::ConstraintViolation(message);
        }
        return match sqlite_code(&error).map(|code| code & 0xff) {
            Some(SQLITE_BUSY) => Error::Conflict(message),
            // The progress handler stopped it: the invocation's deadline passed.
            Some(SQLITE_INTERRUPT) => Error::Timeout,
            Some(SQLITE_AUTH) => Error::AccessDenied(message),
            _ => Error::InvalidQuery(message),
        };
    }
    match error {
        sqlx::Error::Encode(e) => Error::UnsupportedType(e.to_string()),
        sqlx::Error::ColumnDecode { source, .. } | sqlx::Error::Decode(source) => {
            Error::UnsupportedType(source.to_string())
        }
        other => Error::Unavailable(other.to_string()),
    }
}

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
