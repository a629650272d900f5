use joule_world::event_types::Event;
use joule_world::message_types::Message;
use joule_world::templates::{Error, Host};

use crate::capabilities::callee::{Caller, Refusal};
use crate::capabilities::shape::View;

impl Host for View<'_, Caller> {
    async fn render(&mut self, template: String, event: Event) -> wasmtime::Result<Result<Option<Message>, Error>> {
        let callees = match self.state.callees(&template) {
            Ok(callees) => callees,
            Err(Refusal::NotGranted) => {
                return Ok(Err(Error::TemplateFailed(format!("the manifest does not grant the template {template:?}"))));
            }
            Err(Refusal::ShuttingDown) => return Ok(Err(Error::TemplateFailed("the host is shutting down".into()))),
        };
        Ok(callees.render(&self.state.chain, &template, &event).await.map_err(Error::TemplateFailed))
    }
}
