use joule_world::event_types::Event;
use joule_world::message_types::Message;
use joule_world::templates::{Error, Host};
use tracing::Instrument as _;

use super::TemplatesState;
use crate::invocation::Failure;

impl Host for TemplatesState {
    async fn render(&mut self, template: String, event: Event) -> wasmtime::Result<Result<Option<Message>, Error>> {
        let failed = |why: String| Ok(Err(Error::TemplateFailed(why)));
        if !self.names.is_empty() && !self.names.contains(&template) {
            return failed(format!("the manifest does not grant the template {template:?}"));
        }
        let Some(registry) = self.registry.upgrade() else { return failed("the host is shutting down".into()) };
        let Some(component) = registry.get(&template).filter(|c| c.notification_template().is_some()) else {
            return failed(format!("no notification template named {template:?} is deployed"));
        };
        let mut invocation = match component.invocation(Default::default()) {
            Ok(invocation) => invocation,
            Err(e) => return failed(format!("{e}; retry shortly")),
        };
        let pre = component.notification_template().expect("checked above").clone();
        let span = tracing::debug_span!("joule.template", template = %component.id, event_type = %event.event_type);
        let deadline = invocation.deadline();
        let called = async {
            let instance = pre.instantiate_async(invocation.store()).await?;
            instance.joule_platform_template().call_render(invocation.store(), &event).await
        };
        Ok(match tokio::time::timeout_at(deadline.into(), called.instrument(span)).await {
            Ok(Ok(message)) => Ok(message),
            Ok(Err(trap)) => Err(Error::TemplateFailed(format!("{template:?} failed: {}", Failure::classify(&trap)))),
            Err(_) => Err(Error::TemplateFailed(format!("{template:?} ran past its time limit"))),
        })
    }
}
