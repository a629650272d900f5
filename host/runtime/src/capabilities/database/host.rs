use joule_world::database::{Error, Host, RowSet, Value};

use crate::capabilities::shape::View;
use crate::database::sql::first_keyword;
use crate::database::{DatabaseState, Transaction};

impl Host for View<'_, ()> {
    async fn query(&mut self, statement: String, params: Vec<Value>) -> wasmtime::Result<Result<RowSet, Error>> {
        Ok(match transaction_for(self.unit, &statement) {
            Ok(transaction) => transaction.query(&statement, &params).await,
            Err(e) => Err(e),
        })
    }

    async fn execute(&mut self, statement: String, params: Vec<Value>) -> wasmtime::Result<Result<u64, Error>> {
        Ok(match transaction_for(self.unit, &statement) {
            Ok(transaction) => transaction.execute(&statement, &params).await,
            Err(e) => Err(e),
        })
    }
}

/// The transaction to run `statement` in, unless it would end or split the unit of work:
/// committing, rolling back and savepoints belong to the platform.
fn transaction_for<'a>(unit: &'a mut DatabaseState, statement: &str) -> Result<&'a mut Box<dyn Transaction>, Error> {
    const TRANSACTION_CONTROL: [&str; 8] = ["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"];
    let keyword = first_keyword(statement);
    if TRANSACTION_CONTROL.contains(&keyword.as_str()) {
        return Err(Error::AccessDenied(format!(
            "{keyword} is not allowed: each invocation is one unit of work, which the platform commits or rolls back"
        )));
    }
    unit.transaction()
}
