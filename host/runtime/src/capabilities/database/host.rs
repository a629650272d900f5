use joule_world::database::{Error, Host, RowSet, Value};

use super::DatabaseState;
use super::sql::first_keyword;

impl Host for DatabaseState {
    async fn query(&mut self, statement: String, params: Vec<Value>) -> wasmtime::Result<Result<RowSet, Error>> {
        Ok(match self.statement(&statement) {
            Ok(transaction) => transaction.query(&statement, &params).await,
            Err(e) => Err(e),
        })
    }

    async fn execute(&mut self, statement: String, params: Vec<Value>) -> wasmtime::Result<Result<u64, Error>> {
        Ok(match self.statement(&statement) {
            Ok(transaction) => transaction.execute(&statement, &params).await,
            Err(e) => Err(e),
        })
    }
}

impl DatabaseState {
    /// The transaction to run `statement` in, unless it would end or split the unit of work:
    /// committing, rolling back and savepoints belong to the platform.
    fn statement(&mut self, statement: &str) -> Result<&mut Box<dyn super::Transaction>, Error> {
        const TRANSACTION_CONTROL: [&str; 8] = ["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"];
        let keyword = first_keyword(statement);
        if TRANSACTION_CONTROL.contains(&keyword.as_str()) {
            return Err(Error::AccessDenied(format!(
                "{keyword} is not allowed: each invocation is one unit of work, which the platform commits or rolls back"
            )));
        }
        self.transaction()
    }
}
