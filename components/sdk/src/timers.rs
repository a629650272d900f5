//! Timers inside the unit of work: "deliver this event to me at that time".
//!
//! A timer exists, and a cancellation takes effect, only if the invocation commits. When it
//! falls due, the host delivers it to the component's own [`Handler`](crate::events::Handler)
//! as an [`Event`](crate::events::Event) whose id is the timer's id. Each event type must be
//! declared in the manifest: `timers = { events = [...] }`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

pub use crate::bindings::joule::platform::timers::Error;
use crate::bindings::joule::platform::timers as wit;

/// Schedules an event of `event_type` with `data` for `at` (a past time falls due at once);
/// with a `key`, it replaces the component's pending timer with that key. Returns its id.
pub fn schedule<T: Serialize + ?Sized>(at: DateTime<Utc>, event_type: &str, data: &T, key: Option<&str>) -> Result<String, Error> {
    let data = serde_json::to_string(data).map_err(|e| Error::InvalidTimer(e.to_string()))?;
    wit::schedule(&at.to_rfc3339_opts(SecondsFormat::Millis, true), event_type, &data, key)
}

/// Cancels the component's pending timer with `key`; returns whether there was one.
pub fn cancel(key: &str) -> Result<bool, Error> {
    wit::cancel(key)
}
