use joule_world::variables::{Error, Host};

use super::VariablesState;

impl Host for VariablesState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(self.values.get(&name).cloned().ok_or(Error::Undefined(name)))
    }
}
