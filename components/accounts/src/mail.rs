//! The email channel. A person's address and preferences are theirs to keep here, and no
//! event ever carries an address, so the notifications component publishes each message it
//! stores (`notification.created.v1`, naming the recipient's subject) and this handler
//! mails it to the recipient when their profile turns email on and has an address.
//!
//! The mail is sent last in the unit of work: the send cannot be taken back, so nothing
//! after it may fail and roll back what was sent.

use joule_sdk::email::{self, Error as MailError, Message};
use joule_sdk::events::{Event, Handler, HandlerError};
use serde::Deserialize;

use crate::profile::store;

/// The event the notifications component publishes for each message it stores.
pub const NOTIFICATION_CREATED: &str = "notification.created.v1";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    recipient: String,
    subject: String,
    body: String,
}

/// The accounts' event handler: mails notifications.
pub struct Mail;

impl Handler for Mail {
    fn handle(event: Event) -> Result<(), HandlerError> {
        if event.event_type != NOTIFICATION_CREATED {
            return Ok(());
        }
        let notification: Notification = event.data_as()?;
        let profile = store::find(&notification.recipient).map_err(|e| HandlerError::Retryable(format!("{e:?}")))?;
        let Some(to) = profile.and_then(|p| mailbox(p.notification_preferences.email, p.email.as_deref(), p.display_name.as_deref()))
        else {
            return Ok(());
        };
        let message = Message { to: vec![to], subject: notification.subject, text: notification.body };
        match email::send(&message) {
            Ok(()) => Ok(()),
            Err(MailError::Unavailable(why)) => Err(HandlerError::Retryable(format!("the mail server is unavailable: {why}"))),
            // A bad stored address or a refusal will not change on a retry.
            Err(MailError::Invalid(why) | MailError::Rejected(why)) => {
                eprintln!("notification {} not mailed to {}: {why}", event.id, notification.recipient);
                Ok(())
            }
        }
    }
}

/// The recipient's mailbox, when they want email and have an address: "Name <address>".
fn mailbox(wants_email: bool, address: Option<&str>, name: Option<&str>) -> Option<String> {
    let address = address.filter(|a| wants_email && !a.is_empty())?;
    // A display name is quoted, so commas or angle brackets in it cannot add recipients.
    Some(match name.filter(|n| !n.is_empty()) {
        Some(name) => format!("\"{}\" <{address}>", name.replace(['\\', '"'], "")),
        None => address.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_goes_only_where_the_profile_wants_it() {
        assert_eq!(mailbox(true, Some("ana@example.com"), None).as_deref(), Some("ana@example.com"));
        assert_eq!(mailbox(true, Some("ana@example.com"), Some("Ana, \"A\"")).as_deref(), Some("\"Ana, A\" <ana@example.com>"));
        assert_eq!(mailbox(false, Some("ana@example.com"), None), None);
        assert_eq!(mailbox(true, None, Some("Ana")), None);
        assert_eq!(mailbox(true, Some(""), None), None);
    }
}
