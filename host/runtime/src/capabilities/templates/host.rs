use joule_world::event_types::Event;
use joule_world::message_types::Message;
use joule_world::templates::{Error, Host};
use super::TemplatesState;
use crate::capabilities::callee;

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
        let pre = component.notification_template().expect("checked above");
        let span = tracing::debug_span!("joule.template", template = %component.id, event_type = %event.event_type);
        let render = async |store: &mut wasmtime::Store<_>| {
            let instance = pre.instantiate_async(&mut *store).await?;
            instance.joule_platform_template().call_render(store, &event).await
        };
        Ok(callee::call(&self.chain, &component, span, render).await.map_err(Error::TemplateFailed))
    }
}
