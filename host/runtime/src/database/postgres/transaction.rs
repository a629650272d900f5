//! One invocation's transaction on Postgres.
//!
//! - Reads before the first write run alone, each in the implicit transaction Postgres gives
//!   a single statement, on a session that is read-only by default: no `BEGIN` and `COMMIT`
//!   around them. Under READ COMMITTED they see what they would have seen inside the
//!   transaction; what differs is `now()`, which is the statement's start, not the unit of
//!   work's. A read that writes after all (a function, `nextval`, `FOR UPDATE`) is refused by
//!   the session and runs again inside the transaction.
//! - The transaction begins at the first other statement, unless the invocation's deadline
//!   has passed. Each statement is bounded by the session's statement timeout, the
//!   component's timeout, and by the invocation's deadline: one still running then is
//!   cancelled on the server, and the unit of work can no longer commit.
//! - A failed statement does not spoil the unit of work, as on SQLite. The first statement
//!   inside the transaction runs bare (it may set the transaction's isolation), and if it
//!   fails the transaction simply starts over: nothing ran in it before. Every later one runs
//!   under a savepoint it can roll back to, whatever it is, since the statements before it
//!   may hold locks, a snapshot or settings even without writing.
//! - Ending the transaction also resets the session for the next invocation (see `session`).

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use joule_world::database::{Error, RowSet, Value};
use sqlx::Executor as _;
use sqlx::Row as _;
use sqlx::postgres::PgRow;

use super::connections::{Connections, connection_lost};
use super::outbox;
use super::session::Open;
use super::values::{map_error, run_on};
use crate::database::sql::reads_alone;
use crate::database::{Output, Transaction};
use crate::events::Envelope;
use crate::timers::{NewTimer, sortable};

pub(super) struct PgTransaction {
    connections: Arc<Connections>,
    deadline: Instant,
    open: Option<Open>,
    /// Why the unit of work can no longer commit: its deadline passed mid-statement, or its
    /// transaction failed beyond what a savepoint recovers. Every later statement fails so.
    lost: Option<Error>,
}

impl PgTransaction {
    pub(super) fn new(connections: Arc<Connections>, deadline: Instant) -> Self {
        Self { connections, deadline, open: None, lost: None }
    }

    /// The invocation's connection, taken at its first statement unless the deadline has passed.
    async fn connect(&mut self) -> Result<&mut Open, Error> {
        if let Some(lost) = &self.lost {
            return Err(lost.clone());
        }
        if self.open.is_none() {
            if Instant::now() >= self.deadline {
                return Err(Error::Timeout);
            }
            let lease = self.connections.acquire().await.map_err(map_error)?;
            self.open = Some(Open::new(lease, self.connections.clone()));
        }
        Ok(self.open.as_mut().expect("just connected"))
    }

    /// Gives up the unit of work: dropping its connection cancels a statement still running,
    /// or rolls back, in the background; nothing more runs in it and it cannot commit.
    fn lose(&mut self, error: Error) -> Error {
        self.open = None;
        self.lost = Some(error.clone());
        error
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
            let deadline = self.deadline;
            let open = self.connect().await?;
            let Some(result) = open.within(deadline, |c| c.fetch_all(batch)).await else {
                return Err(self.lose(Error::Timeout));
            };
            let open = self.open.as_mut().expect("connected");
            // If the batch failed, its transaction may have begun: rolled back below.
            open.in_transaction = true;
            match result {
                Ok(rows) => return Ok(rows),
                // Connections are handed out without a ping (a round trip per invocation),
                // so one that died while idle fails here: try another.
                Err(error) if connection_lost(&error) => {
                    self.open.take().expect("connected").discard();
                    attempts = attempts.saturating_sub(1);
                    if attempts == 0 {
                        return Err(map_error(error));
                    }
                }
                // Refused by the server (the inbox record waited past the statement timeout,
                // say): the connection is fine, and serves on once rolled back.
                Err(error) => {
                    self.recover(false).await?;
                    return Err(map_error(error));
                }
            }
        }
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
            let deadline = self.deadline;
            let open = match self.connect().await {
                Ok(open) => open,
                Err(error) => return Some(Err(error)),
            };
            let Some(result) = open.within(deadline, |c| Box::pin(run_on(c, statement, params, query))).await else {
                return Some(Err(self.lose(Error::Timeout)));
            };
            match result {
                Ok(output) => return Some(Ok(output)),
                // It writes, or it lacks a right: inside the transaction, it succeeds or fails for good.
                Err(Error::AccessDenied(_)) => return None,
                Err(Error::Unavailable(_)) if attempts > 1 => {
                    attempts -= 1;
                    self.open.take().expect("connected").discard();
                }
                Err(error) => return Some(Err(error)),
            }
        }
    }

    async fn run_in_transaction(&mut self, statement: &str, params: &[Value], query: bool) -> Result<Output, Error> {
        let savepoint = self.prepare_statement().await?;
        let deadline = self.deadline;
        let open = self.open.as_mut().expect("prepared");
        let Some(result) = open.within(deadline, |c| Box::pin(run_on(c, statement, params, query))).await else {
            return Err(self.lose(Error::Timeout));
        };
        self.settle(savepoint, result).await
    }

    /// After a statement inside the transaction: from now on the transaction holds state, or,
    /// when the statement failed, it is undone.
    async fn settle<T>(&mut self, savepoint: bool, result: Result<T, Error>) -> Result<T, Error> {
        match result {
            Ok(output) => {
                self.open.as_mut().expect("prepared").holds_state = true;
                Ok(output)
            }
            Err(error) => {
                self.recover(savepoint).await?;
                Err(error)
            }
        }
    }

    /// Begins the transaction if need be and, once a statement has run in it, makes sure a
    /// savepoint is in place for the next; returns whether one is.
    async fn prepare_statement(&mut self) -> Result<bool, Error> {
        let deadline = self.deadline;
        let open = self.begin().await?;
        if !open.holds_state {
            return Ok(false);
        }
        if std::mem::take(&mut open.savepoint_set) {
            return Ok(true);
        }
        let Some(result) = open.within(deadline, |c| c.execute("SAVEPOINT joule_statement")).await else {
            return Err(self.lose(Error::Timeout));
        };
        match result {
            Ok(_) => Ok(true),
            // The transaction is aborted, and what it held with it.
            Err(error) => Err(self.lose(map_error(error))),
        }
    }

    /// After a failed statement: back to its savepoint, which stays in place for the next;
    /// or, when nothing ran in the transaction before it, roll back and begin afresh at the
    /// next statement, on the same session.
    async fn recover(&mut self, savepoint: bool) -> Result<(), Error> {
        let deadline = self.deadline;
        let open = self.open.as_mut().expect("recovering an open transaction");
        let statement = if savepoint { "ROLLBACK TO SAVEPOINT joule_statement" } else { "ROLLBACK" };
        let Some(result) = open.within(deadline, |c| c.execute(statement)).await else {
            return Err(self.lose(Error::Timeout));
        };
        if let Err(error) = result {
            return Err(self.lose(map_error(error)));
        }
        let open = self.open.as_mut().expect("recovered");
        if savepoint {
            open.savepoint_set = true;
        } else {
            open.in_transaction = false;
            open.holds_state = false;
            open.savepoint_set = false;
        }
        Ok(())
    }
}

const RECORD_DELIVERY: &str = "SELECT joule_api.record_delivery($1)";
const SCHEDULE_TIMER: &str = "SELECT joule_api.schedule_timer($1, $2, $3, $4, $5, $6, $7, $8)";
const CANCEL_TIMER: &str = "SELECT joule_api.cancel_timer($1)";

/// `text` as an SQL string literal, for a session with `standard_conforming_strings` on.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
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
        if let Some(lost) = self.lost.take() {
            return Err(lost);
        }
        match self.open.take() {
            None => Ok(()),
            Some(open) => open.end(true).await,
        }
    }

    async fn rollback(mut self: Box<Self>) -> Result<(), Error> {
        match self.open.take() {
            None => Ok(()),
            Some(open) => open.end(false).await,
        }
    }

    async fn enqueue(&mut self, events: &[Envelope]) -> Result<(), Error> {
        let savepoint = self.prepare_statement().await?;
        let deadline = self.deadline;
        let open = self.open.as_mut().expect("prepared");
        let Some(result) = open.within(deadline, |c| Box::pin(outbox::write(c, events))).await else {
            return Err(self.lose(Error::Timeout));
        };
        self.settle(savepoint, result).await
    }

    async fn record_delivery(&mut self, event_id: &str) -> Result<bool, Error> {
        if self.open.as_ref().is_some_and(|open| open.in_transaction) {
            let params = [Value::Text(event_id.to_string())];
            let rows = self.run_in_transaction(RECORD_DELIVERY, &params, true).await?.into_rows();
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
        open.holds_state = true;
        open.savepoint_set = true;
        let first = rows.first().ok_or_else(|| Error::Unavailable("the inbox answered without a row".into()))?;
        first.try_get::<bool, _>(0).map_err(map_error)
    }

    async fn schedule_timer(&mut self, timer: &NewTimer) -> Result<(), Error> {
        let text = |value: &Option<String>| value.clone().map_or(Value::Null, Value::Text);
        let params = [
            Value::Text(timer.id.clone()),
            text(&timer.key),
            Value::Text(timer.event_type.clone()),
            Value::Json(timer.data.to_string()),
            Value::Timestamp(sortable(timer.due_at)),
            text(&timer.correlation_id),
            text(&timer.traceparent),
            text(&timer.actor),
        ];
        self.run_in_transaction(SCHEDULE_TIMER, &params, true).await.map(drop)
    }

    async fn cancel_timer(&mut self, key: &str) -> Result<bool, Error> {
        let rows = self.run_in_transaction(CANCEL_TIMER, &[Value::Text(key.to_string())], true).await?.into_rows();
        Ok(rows.rows.first().and_then(|r| r.first()) == Some(&Value::Boolean(true)))
    }
}
