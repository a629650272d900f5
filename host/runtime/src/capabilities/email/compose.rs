//! From a guest's message to an RFC 5322 message: the limits every backend shares, the
//! granted sender, and the headers a guest cannot set (Date, Message-ID).

use joule_world::email::{Error, Message};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;

/// Recipients of one message, at most.
pub const MAX_RECIPIENTS: usize = 50;
/// RFC 5322's limit on a line, which a subject must fit (before encoding).
pub const MAX_SUBJECT_CHARS: usize = 998;
/// The plain-text body, at most.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// The message `sender` sends, checked against the limits.
pub(super) fn compose(sender: &Mailbox, message: Message) -> Result<lettre::Message, Error> {
    check_limits(&message)?;
    let mut builder = lettre::Message::builder()
        .from(sender.clone())
        .subject(message.subject)
        .date_now()
        .message_id(Some(message_id(sender)))
        .header(ContentType::TEXT_PLAIN);
    for (index, to) in message.to.iter().enumerate() {
        builder = builder.to(recipient(index, to)?);
    }
    builder.body(message.text).map_err(|e| Error::Invalid(format!("the message cannot be composed: {e}")))
}

fn check_limits(message: &Message) -> Result<(), Error> {
    let recipients = message.to.len();
    if !(1..=MAX_RECIPIENTS).contains(&recipients) {
        return Err(Error::Invalid(format!("a message has 1 to {MAX_RECIPIENTS} recipients, this one has {recipients}")));
    }
    if message.subject.contains(['\r', '\n']) {
        return Err(Error::Invalid("the subject cannot contain a line break".into()));
    }
    let subject_chars = message.subject.chars().count();
    if subject_chars > MAX_SUBJECT_CHARS {
        return Err(Error::Invalid(format!("the subject is at most {MAX_SUBJECT_CHARS} characters, this one is {subject_chars}")));
    }
    if message.text.len() > MAX_TEXT_BYTES {
        return Err(Error::Invalid(format!("the body is at most {MAX_TEXT_BYTES} bytes, this one is {}", message.text.len())));
    }
    Ok(())
}

fn recipient(index: usize, text: &str) -> Result<Mailbox, Error> {
    text.parse().map_err(|e| {
        Error::Invalid(format!("to[{index}] {text:?} is not an address such as \"Ana <ana@example.com>\": {e}"))
    })
}

/// A unique id in the sender's domain, as RFC 5322 section 3.6.4 suggests.
fn message_id(sender: &Mailbox) -> String {
    format!("<{}@{}>", uuid::Uuid::now_v7().simple(), sender.email.domain())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> Mailbox {
        "Joule <noreply@joule.example>".parse().unwrap()
    }

    fn message(to: &[&str], subject: &str, text: &str) -> Message {
        Message { to: to.iter().map(|s| s.to_string()).collect(), subject: subject.into(), text: text.into() }
    }

    fn invalid(message: Message) -> String {
        match compose(&sender(), message) {
            Err(Error::Invalid(why)) => why,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn composes_from_the_granted_sender_with_date_and_message_id() {
        let email = compose(&sender(), message(&["Ana <ana@example.com>", "bo@example.org"], "Your receipt", "Thanks, Ana.")).unwrap();
        let text = String::from_utf8(email.formatted()).unwrap();
        assert!(text.contains("From: Joule <noreply@joule.example>\r\n"), "{text}");
        assert!(text.contains("To: Ana <ana@example.com>, bo@example.org\r\n"), "{text}");
        assert!(text.contains("Subject: Your receipt\r\n"), "{text}");
        assert!(text.contains("\r\nDate: "), "{text}");
        assert!(text.contains("Message-ID: <") && text.contains("@joule.example>\r\n"), "{text}");
        assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nThanks, Ana."), "{text}");
        let envelope = email.envelope();
        assert_eq!(envelope.from().map(ToString::to_string).as_deref(), Some("noreply@joule.example"));
        assert_eq!(envelope.to().iter().map(ToString::to_string).collect::<Vec<_>>(), ["ana@example.com", "bo@example.org"]);
    }

    #[test]
    fn unicode_subjects_and_bodies_are_encoded() {
        let email = compose(&sender(), message(&["ana@example.com"], "Reçu ⚡", "Merci, Zoë.")).unwrap();
        let text = String::from_utf8(email.formatted()).unwrap();
        assert!(text.contains("Subject: =?utf-8?"), "an encoded word: {text}");
        assert!(text.is_ascii(), "{text}");
    }

    #[test]
    fn malformed_addresses_are_invalid_and_named() {
        for address in ["ana", "ana@", "Ana <ana@example.com", "ana@example.com, bo@example.org", "ana@example.com\r\nBcc: x@y.example", ""] {
            let why = invalid(message(&["bo@example.org", address], "s", "t"));
            assert!(why.contains("to[1]"), "{address:?}: {why}");
        }
    }

    #[test]
    fn limits() {
        assert!(invalid(message(&[], "s", "t")).contains("1 to 50"));
        let many: Vec<String> = (0..=MAX_RECIPIENTS).map(|i| format!("r{i}@example.com")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(invalid(message(&many, "s", "t")).contains("51"));
        compose(&sender(), message(&many[..MAX_RECIPIENTS], "s", "t")).unwrap();

        assert!(invalid(message(&["a@example.com"], "Hi\r\nBcc: x@example.com", "t")).contains("line break"));
        assert!(invalid(message(&["a@example.com"], "line\nbreak", "t")).contains("line break"));
        let subject = "é".repeat(MAX_SUBJECT_CHARS);
        compose(&sender(), message(&["a@example.com"], &subject, "t")).unwrap();
        assert!(invalid(message(&["a@example.com"], &format!("{subject}x"), "t")).contains("999"));

        let body = "x".repeat(MAX_TEXT_BYTES);
        compose(&sender(), message(&["a@example.com"], "s", &body)).unwrap();
        assert!(invalid(message(&["a@example.com"], "s", &format!("{body}x"))).contains("bytes"));
    }
}
