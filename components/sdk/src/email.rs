//! Email from the sender the manifest grants (`smtp = { from = "..." }`), to the SMTP server
//! the platform is configured with.
//!
//! A message is sent at the call, not when the unit of work commits: one that rolls back
//! after a send has still sent it. So send last, once everything else has succeeded, and
//! word messages so that a repeat (a retried event) does no harm.
//!
//! ```ignore
//! use joule_sdk::email::{self, Message};
//!
//! let receipt = Message {
//!     to: vec!["Ana <ana@example.com>".into()],
//!     subject: "Your charging receipt".into(),
//!     text: "You charged 12.4 kWh for 4.96 EUR.".into(),
//! };
//! email::send(&receipt)?;
//! ```

pub use crate::bindings::joule::platform::email::{Error, Message};
use crate::bindings::joule::platform::email as wit;

/// Sends `message` now: 1 to 50 recipients, a subject of at most 998 characters on one line,
/// and a plain-text body of at most 1 MiB.
pub fn send(message: &Message) -> Result<(), Error> {
    wit::send(message)
}
