use joule_world::database::{Error, Host, RowSet, Value};

use super::DatabaseState;

impl Host for DatabaseState {
    async fn query(&mut self, statement: String, params: Vec<Value>) -> wasmtime::Result<Result<RowSet, Error>> {
        Ok(match self.transaction() {
            Ok(transaction) => transaction.query(&statement, &params).await,
            Err(e) => Err(e),
        })
    }

    async fn execute(&mut self, statement: String, params: Vec<Value>) -> wasmtime::Result<Result<u64, Error>> {
        Ok(match self.transaction() {
            Ok(transaction) => transaction.execute(&statement, &params).await,
            Err(e) => Err(e),
        })
    }
}
