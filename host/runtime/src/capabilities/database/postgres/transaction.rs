//! One invocation's transaction on Postgres.
//!
//! - Reads before the first write run alone, each in the implicit transaction Postgres gives
//!   a single statement, on a session that is read-only by default: no `BEGIN` and `COMMIT`
//!   around them. Under READ COMMITTED they see what they would have seen inside the
//!   transaction; what differs is `now()`, which is the statement's start, not the unit of
//!   work's. A read that writes after all (a function, `nextval`) is refused by the session
//!   and runs again inside the transaction.
//! - The transaction begins at the first other statement, unless the invocation's deadline
//!   has passed; each statement is bounded by the session's statement timeout, the
//!   component's timeout.
//! - A failed statement does not spoil the unit of work, as on SQLite: once the transaction
//!   has written, each statement runs under a savepoint it can roll back to; before that,
//!   there is nothing to keep and the transaction simply starts over.
//! - A connection whose session the component changed (`SET`, `PREPARE`, temporary tables...)
//!   or that is dropped mid-transaction is closed rather than returned to the pool.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use joule_world::database::{Error, RowSet, Value};
use sqlx::Executor as _;
use sqlx::pool::PoolConnection;
use sqlx::Row as _;
use sqlx::postgres::{PgRow, Postgres};

use super::connections::{Connections, Lease};
use super::outbox;
use super::values::{map_error, run_on};
use crate::capabilities::database::sql::{changes_session, keeps_state, reads_alone};
use crate::capabilities::database::{Output, Transaction};
use crate::events::Envelope;

pub(super) struct PgTransaction {
    connections: Arc<Connections>,
    deadline: Instant,
    open: Option<Open>,
}

/// The invocation's connection, and how far its transaction has come.
struct Open {
    /// `None` once handed back.
    connection: Option<Lease>,
    /// Whether `BEGIN` was sent; before it, each read runs alone.
    in_transaction: bool,
    /// Whether a statement changed data or took locks that a restart would lose.
    written: bool,
    /// Whether a savepoint was set, in an earlier round trip, for the next statement.
    savepoint_set: bool,
    /// Whether the session outlives the transaction in a changed state.
    session_changed: bool,
}

impl Open {
    fn connection(&mut self) -> &mut PoolConnection<Postgres> {
        &mut self.connection.as_mut().expect("an open transaction holds its connection").connection
    }

    /// Ends the transaction, if one began, with `COMMIT` or `ROLLBACK`, and keeps the
    /// connection for the next invocation only if its session is as the pool gave it.
    async fn end(mut self, statement: &str, connections: &Connections) -> Result<(), Error> {
        let result = match self.in_transaction {
            true => self.connection().execute(statement).await.map(drop).map_err(map_error),
            false => Ok(()),
        };
        let mut lease = self.connection.take().expect("an open transaction holds its connection");
        if result.is_err() || self.session_changed {
            lease.connection.close_on_drop();
        } else {
            connections.release(lease);
        }
        result
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        // Dropped mid-transaction or mid-statement: the connection must not serve anyone else.
        if let Some(lease) = &mut self.connection {
            lease.connection.close_on_drop();
        }
    }
}

impl PgTransaction {
    pub(super) fn new(connections: Arc<Connections>, deadline: Instant) -> Self {
        Self { connections, deadline, open: None }
    }

    /// The invocation's connection, taken at its first statement unless the deadline has passed.
    async fn connect(&mut self) -> Result<&mut Open, Error> {
        if self.open.is_none() {
            if Instant::now() >= self.deadline {
                return Err(Error::Timeout);
            }
            let lease = self.connections.acquire().await.map_err(map_error)?;
            // Held by `Open` before anything is sent: if this future is dropped mid-statement,
            // the connection is closed rather than handed to another invocation.
            self.open = Some(Open {
                connection: Some(lease),
                in_transaction: false,
                written: false,
                savepoint_set: false,
                session_changed: false,
            });
        }
        Ok(self.open.as_mut().expect("just connected"))
    }

    async fn begin(&mut self) -> Result<&mut Open, Error> {
        if !self.open.as_ref().is_some_and(|open| open.in_transaction) {
            self.start("BEGIN READ WRITE").await?;
        }
        Ok(self.open.as_mut().expect("just begun"))
    }

    /// Sends `batch`, statements that begin the transaction, in one round trip; returns the
    /// rows they produced.
    async fn start(&mut self, batch: &str) -> Result<Vec<PgRow>, Error> {
        // Each idle connection may have died; past that, the error stands.
        let mut attempts = self.connections.capacity() + 1;
        loop {
            let open = self.connect().await?;
            match open.connection().fetch_all(batch).await {
                Ok(rows) => {
                    open.in_transaction = true;
                    return Ok(rows);
                }
                Err(error) => {
                    // Dropping `Open` closes the connection.
                    self.open = None;
                    // Connections are handed out without a ping (a round trip per
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

    /// Runs a statement on the platform's behalf that writes, whatever its first keyword says.
    async fn run_platform(&mut self, statement: &str, params: &[Value], query: bool) -> Result<Output, Error> {
        let output = self.run_in_transaction(statement, params, query).await?;
        if let Some(open) = &mut self.open {
            open.written = true;
        }
        Ok(output)
    }

    pub(super) async fn run(&mut self, statement: &str, params: &[Value], query: bool) -> Result<Output, Error> {
        let in_transaction = self.open.as_ref().is_some_and(|open| open.in_transaction);
        if !in_transaction && reads_alone(statement) {
            if let Some(result) = self.read_alone(statement, params, query).await {
                return result;
            }
        }
        self.run_in_transaction(statement, params, query).await
    }

    /// Runs a read in an implicit transaction of its own; `None` when it must run inside the
    /// unit of work's transaction instead, because the read-only session refused it.
    async fn read_alone(&mut self, statement: &str, params: &[Value], query: bool) -> Option<Result<Output, Error>> {
        // A read has no effects to lose, so a connection that died while idle is just replaced.
        let mut attempts = self.connections.capacity() + 1;
        loop {
            let open = match self.connect().await {
                Ok(open) => open,
                Err(error) => return Some(Err(error)),
            };
            match run_on(open.connection(), statement, params, query).await {
                Ok(output) => {
                    open.session_changed |= changes_session(statement);
                    return Some(Ok(output));
                }
                // It writes, or it lacks a right: inside the transaction, it succeeds or fails for good.
                Err(Error::AccessDenied(_)) => return None,
                Err(Error::Unavailable(_)) if attempts > 1 => {
                    attempts -= 1;
                    self.open = None;
                }
                Err(error) => return Some(Err(error)),
            }
        }
    }

    async fn run_in_transaction(&mut self, statement: &str, params: &[Value], query: bool) -> Result<Output, Error> {
        let savepoint = self.prepare_statement().await?;
        let open = self.open.as_mut().expect("prepared");
        match run_on(open.connection(), statement, params, query).await {
            Ok(output) => {
                open.written |= keeps_state(statement);
                open.session_changed |= changes_session(statement);
                Ok(output)
            }
            Err(error) => {
                self.recover(savepoint).await?;
                Err(error)
            }
        }
    }

    /// Begins the transaction if need be and, once it has written, sets a savepoint for the
    /// next statement; returns whether it did.
    async fn prepare_statement(&mut self) -> Result<bool, Error> {
        let open = self.begin().await?;
        let savepoint = open.written;
        if savepoint && !std::mem::take(&mut open.savepoint_set) {
            open.connection().execute("SAVEPOINT joule_statement").await.map_err(map_error)?;
        }
        Ok(savepoint)
    }

    /// After a failed statement: back to its savepoint or, with nothing worth keeping yet,
    /// start afresh at the next statement.
    async fn recover(&mut self, savepoint: bool) -> Result<(), Error> {
        if savepoint {
            let open = self.open.as_mut().expect("a savepoint lives in an open transaction");
            open.connection().execute("ROLLBACK TO SAVEPOINT joule_statement").await.map_err(map_error)?;
        } else if let Some(open) = self.open.take() {
            open.end("ROLLBACK", &self.connections).await?;
        }
        Ok(())
    }
}

const RECORD_DELIVERY: &str = "SELECT joule_api.record_delivery($1)";

/// `text` as an SQL string literal, for a session with `standard_conforming_strings` on.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
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
            Some(open) => open.end("COMMIT", &self.connections).await,
        }
    }

    async fn rollback(mut self: Box<Self>) -> Result<(), Error> {
        match self.open.take() {
            None => Ok(()),
            Some(open) => open.end("ROLLBACK", &self.connections).await,
        }
    }

    async fn enqueue(&mut self, events: &[Envelope]) -> Result<(), Error> {
        let savepoint = self.prepare_statement().await?;
        let open = self.open.as_mut().expect("prepared");
        match outbox::write(open.connection(), events).await {
            Ok(()) => {
                open.written = true;
                Ok(())
            }
            Err(error) => {
                self.recover(savepoint).await?;
                Err(error)
            }
        }
    }

    async fn record_delivery(&mut self, event_id: &str) -> Result<bool, Error> {
        if self.open.as_ref().is_some_and(|open| open.in_transaction) {
            let params = [Value::Text(event_id.to_string())];
            let rows = self.run_platform(RECORD_DELIVERY, &params, true).await?.into_rows();
            return Ok(rows.rows.first().and_then(|r| r.first()) == Some(&Value::Boolean(true)));
        }
        // The usual case, a handler's first statement: the transaction's start, the inbox
        // record and the savepoint its first statement needs go in one round trip. A batch
        // takes no parameters, hence the literal; the session keeps standard-conforming
        // strings, in which doubling quotes is the whole escape.
        let batch = format!(
            "BEGIN READ WRITE; SELECT joule_api.record_delivery({}); SAVEPOINT joule_statement",
            quoted(event_id)
        );
        let rows = self.start(&batch).await?;
        let open = self.open.as_mut().expect("just begun");
        open.written = true;
        open.savepoint_set = true;
        let first = rows.first().ok_or_else(|| Error::Unavailable("the inbox answered without a row".into()))?;
        first.try_get::<bool, _>(0).map_err(map_error)
    }
}
