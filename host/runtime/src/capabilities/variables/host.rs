use joule_world::variables::{Error, Host};

use super::VariablesState;
use crate::capabilities::shape::View;

impl Host for View<'_, VariablesState> {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(self.state.values.get(&name).cloned().ok_or(Error::Undefined(name)))
    }
}
