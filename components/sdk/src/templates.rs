//! Notifications: rendering an event with a deployed template, and writing one.
//!
//! A template implements [`Template`] and is exported with
//! [`export_template!`](crate::export_template).

pub use crate::bindings::joule::platform::event_types::Event;
pub use crate::bindings::joule::platform::message_types::Message;
use crate::bindings::joule::platform::templates as wit;
pub use crate::bindings::joule::platform::templates::Error;
pub use crate::template_bindings::exports::joule::platform::template::Guest as Template;

/// Renders `event` with `template`; `None` when the event means nothing to its recipient.
pub fn render(template: &str, event: &Event) -> Result<Option<Message>, Error> {
    wit::render(template, event)
}
