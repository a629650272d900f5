//! The message id that pairs a CALL with its CALLRESULT or CALLERROR.

use std::fmt;

use thiserror::Error;

/// A message id as OCPP-J defines it: a string of at most 36 characters, room for a UUID.
///
/// Only valid ids exist as this type, so every id Joule stores or sends is one a peer can
/// accept. An id a peer sent that breaks the rule is treated as unreadable, and the answer
/// goes out under [`MessageId::unreadable`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct MessageId(String);

/// Why a string is not a message id.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidMessageId {
    /// The empty string pairs with nothing.
    #[error("message id is empty")]
    Empty,
    /// Longer than the 36 characters both versions allow.
    #[error("message id has {0} characters, more than {max}", max = MessageId::MAX_CHARS)]
    TooLong(usize),
}

impl MessageId {
    /// The longest id both versions allow, in characters.
    pub const MAX_CHARS: usize = 36;

    /// Checks `id` against the length rule.
    pub fn new(id: impl Into<String>) -> Result<MessageId, InvalidMessageId> {
        let id = id.into();
        match id.chars().count() {
            0 => Err(InvalidMessageId::Empty),
            n if n > MessageId::MAX_CHARS => Err(InvalidMessageId::TooLong(n)),
            _ => Ok(MessageId(id)),
        }
    }

    /// The id a CALLERROR carries when the offending message's own id could not be read
    /// (2.0.1 Part 4 §4.2.3; 1.6 has no rule, and gets the same).
    pub fn unreadable() -> MessageId {
        MessageId("-1".to_owned())
    }

    /// The id as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rule() {
        let uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(uuid.len(), 36);
        assert_eq!(
            MessageId::new(uuid).map(|id| id.to_string()),
            Ok(uuid.to_owned())
        );
        assert_eq!(
            MessageId::new("19223201").map(|id| id.to_string()),
            Ok("19223201".into())
        );
        // Characters, not bytes: 36 two-byte characters still fit.
        assert!(MessageId::new("é".repeat(36)).is_ok());
        assert_eq!(
            MessageId::new(format!("{uuid}x")),
            Err(InvalidMessageId::TooLong(37))
        );
        assert_eq!(MessageId::new(""), Err(InvalidMessageId::Empty));
        assert_eq!(MessageId::unreadable().as_str(), "-1");
    }
}
