//! Events: publishing inside the unit of work, and handling them from a queue.
//!
//! A published event leaves only if the invocation commits. A handler implements
//! [`Handler`] and exports it with [`export_handler!`](crate::export_handler):
//!
//! ```ignore
//! struct Billing;
//!
//! impl joule_sdk::events::Handler for Billing {
//!     fn handle(event: joule_sdk::events::Event) -> Result<(), joule_sdk::events::HandlerError> {
//!         Ok(())
//!     }
//! }
//!
//! joule_sdk::export_handler!(Billing);
//! ```

use serde::Serialize;

pub use crate::bindings::exports::joule::platform::handler::{Error as HandlerError, Guest as Handler};
pub use crate::bindings::joule::platform::event_types::Event;
pub use crate::bindings::joule::platform::events::{Error, PublishOptions};
use crate::bindings::joule::platform::events as wit;

/// Publishes `data` as an event of `event_type`; returns the event's id.
pub fn publish<T: Serialize + ?Sized>(event_type: &str, data: &T) -> Result<String, Error> {
    publish_with(event_type, data, PublishOptions { id: None, correlation_id: None })
}

/// Publishes with a chosen id (publishing one id twice sends it once) or correlation id.
pub fn publish_with<T: Serialize + ?Sized>(event_type: &str, data: &T, options: PublishOptions) -> Result<String, Error> {
    let data = serde_json::to_string(data).map_err(|e| Error::InvalidEvent(e.to_string()))?;
    wit::publish(event_type, &data, &options)
}

impl Event {
    /// The event's data, parsed into `T`.
    pub fn data_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, HandlerError> {
        serde_json::from_str(&self.data).map_err(|e| HandlerError::Permanent(format!("unexpected data: {e}")))
    }
}
