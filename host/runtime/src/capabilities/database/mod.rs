//! The `database` capability: SQL inside the invocation's unit of work.
//!
//! A [`DatabaseBackend`] opens one [`ComponentDatabase`] per component that has a grant;
//! each invocation lazily begins one [`Transaction`] on it, which the invocation commits
//! or rolls back as a whole.

mod host;
mod sql;
pub mod sqlite;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use joule_world::database::{Error, RowSet, Value};
use wasmtime::component::{HasData, Linker};

use crate::invocation::InvocationState;

/// Where component databases live: SQLite files, or Postgres schemas.
#[async_trait]
pub trait DatabaseBackend: Send + Sync {
    /// A short name for logs and errors, such as "sqlite".
    fn name(&self) -> &'static str;

    /// Opens the component's database, applying its migrations first.
    async fn open(&self, component: &str, migrations: Option<&Path>) -> anyhow::Result<Arc<dyn ComponentDatabase>>;

    /// Checks that the backend can be reached, for readiness.
    async fn ping(&self) -> anyhow::Result<()>;
}

/// One component's database.
pub trait ComponentDatabase: Send + Sync {
    /// A unit of work that starts talking to the database only at its first statement.
    fn begin(&self) -> Box<dyn Transaction>;
}

/// The statements of one invocation. Dropping it without committing rolls it back.
#[async_trait]
pub trait Transaction: Send {
    async fn query(&mut self, statement: &str, params: &[Value]) -> Result<RowSet, Error>;
    async fn execute(&mut self, statement: &str, params: &[Value]) -> Result<u64, Error>;
    async fn commit(self: Box<Self>) -> Result<(), Error>;
    async fn rollback(self: Box<Self>) -> Result<(), Error>;
}

/// The database side of one invocation.
pub struct DatabaseState {
    database: Option<Arc<dyn ComponentDatabase>>,
    transaction: Option<Box<dyn Transaction>>,
    component: Arc<str>,
}

impl DatabaseState {
    pub fn new(component: Arc<str>, database: Option<Arc<dyn ComponentDatabase>>) -> Self {
        Self { database, transaction: None, component }
    }

    pub(crate) fn component(&self) -> Arc<str> {
        self.component.clone()
    }

    fn transaction(&mut self) -> Result<&mut Box<dyn Transaction>, Error> {
        let database = self
            .database
            .as_ref()
            .ok_or_else(|| Error::AccessDenied(format!("component {:?} has no database grant", self.component)))?;
        Ok(self.transaction.get_or_insert_with(|| database.begin()))
    }

    /// Ends the unit of work: commits when `success`, otherwise rolls back.
    pub async fn finish(&mut self, success: bool) -> Result<(), Error> {
        match self.transaction.take() {
            None => Ok(()),
            Some(transaction) if success => transaction.commit().await,
            Some(transaction) => transaction.rollback().await,
        }
    }
}

struct Database;

impl HasData for Database {
    type Data<'a> = &'a mut DatabaseState;
}

pub(crate) fn add_to_linker(linker: &mut Linker<InvocationState>) -> anyhow::Result<()> {
    Ok(joule_world::database::add_to_linker::<_, Database>(linker, |state| &mut state.database)?)
}
