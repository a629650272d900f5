//! One invocation's transaction on Postgres.
//!
//! - It begins at the first statement, unless the invocation's deadline has passed; each
//!   statement is bounded by the session's statement timeout, the component's timeout.
//! - A failed statement does not spoil the unit of work, as on SQLite: once the transaction
//!   has written, each statement runs under a savepoint it can roll back to; before that,
//!   there is nothing to keep and the transaction simply starts over.
//! - A connection whose session the component changed (`SET`, `PREPARE`, temporary tables...)
//!   or that is dropped mid-transaction is closed rather than returned to the pool.

use std::time::Instant;

use async_trait::async_trait;
use joule_world::database::{Error, RowSet, Value};
use sqlx::Executor as _;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, Postgres};

use super::values::{map_error, run_on};
use crate::capabilities::database::sql::{changes_session, keeps_state};
use crate::capabilities::database::{Output, Transaction};
use crate::events::Envelope;

pub(super) struct PgTransaction {
    pool: PgPool,
    deadline: Instant,
    open: Option<Open>,
}

struct Open {
    /// `None` once handed back to the pool.
    connection: Option<PoolConnection<Postgres>>,
    /// Whether a statement changed data or took locks that a restart would lose.
    written: bool,
    /// Whether the session outlives the transaction in a changed state.
    session_changed: bool,
}

impl Open {
    fn connection(&mut self) -> &mut PoolConnection<Postgres> {
        self.connection.as_mut().expect("an open transaction holds its connection")
    }

    /// Ends the transaction with `COMMIT` or `ROLLBACK`, and returns the connection to the
    /// pool only if its session is as the pool gave it.
    async fn end(mut self, statement: &str) -> Result<(), Error> {
        let result = self.connection().execute(statement).await.map(drop).map_err(map_error);
        let mut connection = self.connection.take().expect("an open transaction holds its connection");
        if result.is_err() || self.session_changed {
            connection.close_on_drop();
        }
        result
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        // Still inside a transaction: the connection must not serve anyone else.
        if let Some(connection) = &mut self.connection {
            connection.close_on_drop();
        }
    }
}

impl PgTransaction {
    pub(super) fn new(pool: PgPool, deadline: Instant) -> Self {
        Self { pool, deadline, open: None }
    }

    async fn begin(&mut self) -> Result<&mut Open, Error> {
        if self.open.is_none() {
            if Instant::now() >= self.deadline {
                return Err(Error::Timeout);
            }
            // Each idle connection in the pool may have died; past that, the error stands.
            let mut attempts = self.pool.options().get_max_connections();
            loop {
                let connection = self.pool.acquire().await.map_err(map_error)?;
                // Held by `Open` before BEGIN is sent: if this future is dropped mid-BEGIN, the
                // connection is closed rather than returned to the pool inside a transaction.
                let open =
                    self.open.insert(Open { connection: Some(connection), written: false, session_changed: false });
                match open.connection().execute("BEGIN").await {
                    Ok(_) => break,
                    Err(error) => {
                        // Dropping `Open` closes the connection.
                        self.open = None;
                        // The pool hands connections out without a ping (a round trip per
                        // invocation), so one that died while idle fails here: try another.
                        attempts = attempts.saturating_sub(1);
                        if attempts > 0 && connection_lost(&error) {
                            continue;
                        }
                        return Err(map_error(error));
                    }
                }
            }
        }
        Ok(self.open.as_mut().expect("just opened"))
    }

    /// Runs a statement on the platform's behalf that writes, whatever its first keyword says.
    async fn run_platform(&mut self, statement: &str, params: &[Value], query: bool) -> Result<Output, Error> {
        let output = self.run(statement, params, query).await?;
        if let Some(open) = &mut self.open {
            open.written = true;
        }
        Ok(output)
    }

    pub(super) async fn run(&mut self, statement: &str, params: &[Value], query: bool) -> Result<Output, Error> {
        let open = self.begin().await?;
        let savepoint = open.written;
        if savepoint {
            open.connection().execute("SAVEPOINT joule_statement").await.map_err(map_error)?;
        }
        match run_on(open.connection(), statement, params, query).await {
            Ok(output) => {
                open.written |= keeps_state(statement);
                open.session_changed |= changes_session(statement);
                Ok(output)
            }
            Err(error) => {
                if savepoint {
                    open.connection().execute("ROLLBACK TO SAVEPOINT joule_statement").await.map_err(map_error)?;
                } else if let Some(open) = self.open.take() {
                    // Nothing worth keeping yet: start afresh at the next statement.
                    open.end("ROLLBACK").await?;
                }
                Err(error)
            }
        }
    }
}

/// Whether the connection itself failed: it broke, or the server ended the session
/// (SQLSTATE class 57P: shutdown, or terminated by an administrator).
fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| code.starts_with("57P")),
        _ => false,
    }
}

#[async_trait]
impl Transaction for PgTransaction {
    async fn query(&mut self, statement: &str, params: &[Value]) -> Result<RowSet, Error> {
        self.run(statement, params, true).await.map(Output::into_rows)
    }

    async fn execute(&mut self, statement: &str, params: &[Value]) -> Result<u64, Error> {
        self.run(statement, params, false).await.map(Output::into_count)
    }

    async fn commit(mut self: Box<Self>) -> Result<(), Error> {
        match self.open.take() {
            None => Ok(()),
            Some(open) => open.end("COMMIT").await,
        }
    }

    async fn rollback(mut self: Box<Self>) -> Result<(), Error> {
        match self.open.take() {
            None => Ok(()),
            Some(open) => open.end("ROLLBACK").await,
        }
    }

    async fn enqueue(&mut self, event: &Envelope) -> Result<(), Error> {
        let params = [
            Value::Text(event.id.clone()),
            Value::Text(event.event_type.clone()),
            Value::Json(event.data.to_string()),
            Value::Timestamp(event.time.clone()),
            event.correlationid.clone().map_or(Value::Null, Value::Text),
            event.traceparent.clone().map_or(Value::Null, Value::Text),
        ];
        self.run_platform("SELECT joule_api.publish($1, $2, $3, $4, $5, $6)", &params, false).await.map(drop)
    }

    async fn record_delivery(&mut self, event_id: &str) -> Result<bool, Error> {
        let params = [Value::Text(event_id.to_string())];
        let rows = self.run_platform("SELECT joule_api.record_delivery($1) AS first", &params, true).await?.into_rows();
        Ok(rows.rows.first().and_then(|r| r.first()) == Some(&Value::Boolean(true)))
    }
}
