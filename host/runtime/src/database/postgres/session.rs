//! The connection one unit of work runs on, and how it is handed to the next.
//!
//! A component's SQL can change its session beyond its transaction: settings (`SET`, or
//! `set_config(..., false)`, also from inside a function), session advisory locks, temporary
//! tables, holdable cursors, `LISTEN`, prepared statements. Rather than guess that from the
//! statements' text, every session is reset before its connection serves another invocation:
//! in the batch that ends the transaction (`COMMIT` or `ROLLBACK`, then the reset: one round
//! trip), or, after an invocation that only read, in the background once it has ended.
//! `RESET ALL` returns each setting to the value the connection was opened with (the schema's
//! search_path, the component's statement timeout, read-only by default), and the login role
//! stays the component's. A connection whose reset fails is closed, never reused. The reset
//! runs in one function, `joule_api.reset_session`, whose plan the session keeps.
//!
//! A unit of work dropped mid-statement (its invocation timed out, or was dropped) has that
//! statement cancelled on the server and its connection closed; one dropped between
//! statements is rolled back and reset like any other.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt as _;
use futures::future::BoxFuture;
use joule_world::database::Error;
use sqlx::Either;
use sqlx::Executor as _;
use sqlx::postgres::PgConnection;

use super::connections::{Connections, Lease};
use super::values::map_error;

/// Undoes whatever a session can keep beyond a transaction (migration 0006 says what),
/// keeping the login role and sqlx's prepared statements. The component's role is a member of
/// no other, so `SET ROLE` and `SET SESSION AUTHORIZATION` cannot have left another identity.
const RESET_SESSION: &str = "SELECT joule_api.reset_session()";

/// The invocation's connection, and how far its transaction has come.
pub(super) struct Open {
    /// `None` once handed back or closed.
    lease: Option<Lease>,
    connections: Arc<Connections>,
    /// Whether `BEGIN` was sent; before it, each read runs alone.
    pub(super) in_transaction: bool,
    /// Whether a statement has run inside the transaction. From then on the transaction holds
    /// what a restart would lose (locks, a snapshot, settings, changes), so each later
    /// statement runs under a savepoint.
    pub(super) holds_state: bool,
    /// Whether a savepoint is in place, with nothing run since, for the next statement.
    pub(super) savepoint_set: bool,
    /// Whether a statement is on its way to the server or back.
    busy: bool,
}

impl Open {
    pub(super) fn new(lease: Lease, connections: Arc<Connections>) -> Self {
        Self { lease: Some(lease), connections, in_transaction: false, holds_state: false, savepoint_set: false, busy: false }
    }

    /// Runs `call`, a round trip on this connection, until `deadline`: `None` past it, with
    /// the connection marked busy, so that dropping it cancels the statement on the server.
    pub(super) async fn within<'a, T>(
        &'a mut self,
        deadline: Instant,
        call: impl FnOnce(&'a mut PgConnection) -> BoxFuture<'a, T>,
    ) -> Option<T> {
        let Self { lease, busy, .. } = self;
        let lease = lease.as_mut().expect("an open transaction holds its connection");
        *busy = true;
        let result = tokio::time::timeout_at(deadline.into(), call(&mut lease.connection)).await.ok();
        *busy = result.is_none();
        result
    }

    /// Ends the transaction, if one began, with `COMMIT` or `ROLLBACK`, resets the session in
    /// the same round trip, and keeps the connection for the next invocation. After reads run
    /// alone, there is no transaction to end: the reset goes on in the background.
    pub(super) async fn end(mut self, commit: bool) -> Result<(), Error> {
        let mut lease = self.lease.take().expect("an open transaction holds its connection");
        let connections = self.connections.clone();
        if !self.in_transaction {
            tokio::spawn(reset(lease, connections, None));
            return Ok(());
        }
        let ending = if commit { "COMMIT" } else { "ROLLBACK" };
        let (ended, reset) = end_and_reset(&mut lease.connection, Some(ending)).await;
        if reset {
            connections.release(lease);
        }
        ended
    }

    /// Closes the connection as it is: it broke, or its state is unknown.
    pub(super) fn discard(mut self) {
        drop(self.lease.take());
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take() else { return };
        // Without a runtime the process is ending, and the socket closes with it; sqlx would
        // need a runtime to close the connection itself.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            std::mem::forget(lease);
            return;
        };
        let connections = self.connections.clone();
        if self.busy {
            // Dropped mid-statement: the server would run it on, perhaps for long, so it is
            // cancelled; the connection, in an unknown state, then closes.
            runtime.spawn(async move {
                connections.cancel(lease.pid).await;
                drop(lease);
            });
        } else {
            runtime.spawn(reset(lease, connections, self.in_transaction.then_some("ROLLBACK")));
        }
    }
}

/// Ends the transaction with `ending`, if given, and resets the session; keeps the connection
/// only if the reset succeeded.
async fn reset(mut lease: Lease, connections: Arc<Connections>, ending: Option<&'static str>) {
    let (_, reset) = end_and_reset(&mut lease.connection, ending).await;
    if reset {
        connections.release(lease);
    }
}

/// Sends `ending` and the session reset in one batch. Returns whether `ending` succeeded
/// (it did once its command completed, whatever follows) and whether the reset did.
async fn end_and_reset(connection: &mut PgConnection, ending: Option<&str>) -> (Result<(), Error>, bool) {
    let batch = match ending {
        Some(ending) => format!("{ending}; {RESET_SESSION}"),
        None => RESET_SESSION.to_string(),
    };
    let mut completed = 0;
    let mut results = connection.fetch_many(batch.as_str());
    while let Some(result) = results.next().await {
        match result {
            Ok(Either::Left(_)) => completed += 1,
            Ok(Either::Right(_)) => {}
            Err(error) if ending.is_some() && completed == 0 => return (Err(map_error(error)), false),
            Err(error) => {
                tracing::warn!(%error, "failed to reset a component's session; its connection is closed");
                return (Ok(()), false);
            }
        }
    }
    (Ok(()), true)
}
