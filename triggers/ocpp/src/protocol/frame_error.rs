//! A message that is not a well-formed OCPP-J frame, and how to answer it.
//!
//! The rules, per version:
//!
//! | what arrived | 1.6 | 2.0.1 |
//! |---|---|---|
//! | not JSON, not an array, empty, type number not an integer, id unreadable, wrong element count, action not a string | CALLERROR `FormationViolation` | CALLERROR `RpcFrameworkError` |
//! | a type number other than 2, 3, 4 | ignored (§4.1.3) | CALLERROR `MessageTypeNotSupported` (§4.4) |
//! | a broken CALLRESULT or CALLERROR | ignored | ignored |
//!
//! The answer carries the message's id when it could be read, else `"-1"` (2.0.1 §4.2.3).
//! 2.0.1 defines `RpcFrameworkError` as "not a valid RPC request, for example: MessageId
//! could not be read", which is every row of the first line; 1.6 has no such code, and its
//! `FormationViolation` ("syntactically incorrect or not conform the PDU structure") is the
//! closest. A CALLERROR answers a CALL, so a broken CALLRESULT or CALLERROR gets no answer:
//! two peers would otherwise trade errors about errors.

use thiserror::Error;

use super::frame::MessageType;
use super::message_id::InvalidMessageId;
use super::{ErrorCode, Frame, MessageId, Protocol};

/// Why a message's id could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnreadableId {
    /// The array ends before the id.
    #[error("the message id is missing")]
    Missing,
    /// The id is a number, an object, null, ...
    #[error("the message id is not a string")]
    NotAString,
    /// A string, but empty or too long.
    #[error(transparent)]
    Invalid(InvalidMessageId),
}

/// A WebSocket text message that is not a valid OCPP-J frame.
#[derive(Debug, Clone, Error)]
pub enum FrameError {
    #[error("message is not valid JSON: {0}")]
    NotJson(String),
    #[error("message is not a JSON array")]
    NotAnArray,
    #[error("message is an empty array")]
    Empty,
    #[error("message type {0} is not an integer")]
    InvalidMessageType(String),
    #[error("message type {type_id} is not CALL (2), CALLRESULT (3) or CALLERROR (4)")]
    UnknownMessageType {
        type_id: i64,
        message_id: Option<MessageId>,
    },
    #[error("{message_type:?} frame: {reason}")]
    UnreadableMessageId {
        message_type: MessageType,
        reason: UnreadableId,
    },
    #[error("{message_type:?} frame has {found} elements, not {}", message_type.arity())]
    WrongArity {
        message_type: MessageType,
        message_id: MessageId,
        found: usize,
    },
    #[error("CALL frame: the action is not a non-empty string")]
    InvalidAction { message_id: MessageId },
    #[error("CALLERROR frame: the error code or description is not a string")]
    InvalidCallError { message_id: MessageId },
}

impl FrameError {
    /// The message type, when the frame got far enough to tell.
    pub fn message_type(&self) -> Option<MessageType> {
        match self {
            FrameError::UnreadableMessageId { message_type, .. }
            | FrameError::WrongArity { message_type, .. } => Some(*message_type),
            FrameError::InvalidAction { .. } => Some(MessageType::Call),
            FrameError::InvalidCallError { .. } => Some(MessageType::CallError),
            _ => None,
        }
    }

    /// The message id, when it could be read.
    pub fn message_id(&self) -> Option<&MessageId> {
        match self {
            FrameError::UnknownMessageType { message_id, .. } => message_id.as_ref(),
            FrameError::WrongArity { message_id, .. }
            | FrameError::InvalidAction { message_id }
            | FrameError::InvalidCallError { message_id } => Some(message_id),
            _ => None,
        }
    }

    /// The id and code to answer with on a `protocol` connection, or `None` when the
    /// message must go unanswered. The code is already the one the version has.
    pub fn answer(&self, protocol: Protocol) -> Option<(MessageId, ErrorCode)> {
        let code = match (self, protocol) {
            (FrameError::UnknownMessageType { .. }, Protocol::V16) => return None,
            (FrameError::UnknownMessageType { .. }, Protocol::V201) => {
                ErrorCode::MessageTypeNotSupported
            }
            _ if matches!(
                self.message_type(),
                Some(MessageType::CallResult | MessageType::CallError)
            ) =>
            {
                return None;
            }
            _ => ErrorCode::RpcFrameworkError.for_protocol(protocol),
        };
        let id = self
            .message_id()
            .cloned()
            .unwrap_or_else(MessageId::unreadable);
        Some((id, code))
    }

    /// The CALLERROR to send back, if any, describing what was wrong.
    pub fn reply(&self, protocol: Protocol) -> Option<Frame> {
        let (id, code) = self.answer(protocol)?;
        Some(Frame::call_error(
            protocol,
            id,
            code,
            &self.to_string(),
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No answer at all.
    const IGNORED: Option<&str> = None;

    /// (message, expected answer on 1.6, expected answer on 2.0.1), answers as CALLERROR text.
    const CASES: &[(&str, Option<&str>, Option<&str>)] = &[
        // Not a frame at all: nothing could be read, so "-1".
        (
            "not json",
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        (
            r#"[2,"a","Heartbeat",{}"#,
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        (
            r#"{"id":"a"}"#,
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        (
            r#""[2]""#,
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        (
            "[]",
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        (
            r#"["2","a","Heartbeat",{}]"#,
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        (
            r#"[2.5,"a","Heartbeat",{}]"#,
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        // A CALL whose id cannot be used.
        (
            "[2]",
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        (
            r#"[2,19223201,"Heartbeat",{}]"#,
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        (
            r#"[2,"","Heartbeat",{}]"#,
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        (
            r#"[2,"0f8fad5b-d9cb-469f-a165-70867728950e-x","Heartbeat",{}]"#,
            Some(r#"[4,"-1","FormationViolation""#),
            Some(r#"[4,"-1","RpcFrameworkError""#),
        ),
        // A CALL with a readable id but a broken shape: answered under its id.
        (
            r#"[2,"a","Heartbeat"]"#,
            Some(r#"[4,"a","FormationViolation""#),
            Some(r#"[4,"a","RpcFrameworkError""#),
        ),
        (
            r#"[2,"a","Heartbeat",{},{}]"#,
            Some(r#"[4,"a","FormationViolation""#),
            Some(r#"[4,"a","RpcFrameworkError""#),
        ),
        (
            r#"[2,"a",7,{}]"#,
            Some(r#"[4,"a","FormationViolation""#),
            Some(r#"[4,"a","RpcFrameworkError""#),
        ),
        (
            r#"[2,"a","",{}]"#,
            Some(r#"[4,"a","FormationViolation""#),
            Some(r#"[4,"a","RpcFrameworkError""#),
        ),
        // Unknown message types: 1.6 ignores them, 2.0.1 says so.
        (
            r#"[5,"a",{}]"#,
            IGNORED,
            Some(r#"[4,"a","MessageTypeNotSupported""#),
        ),
        (
            r#"[6,"a","NotifyX",{}]"#,
            IGNORED,
            Some(r#"[4,"a","MessageTypeNotSupported""#),
        ),
        ("[0]", IGNORED, Some(r#"[4,"-1","MessageTypeNotSupported""#)),
        (
            r#"[-1,{}]"#,
            IGNORED,
            Some(r#"[4,"-1","MessageTypeNotSupported""#),
        ),
        // Broken answers are never answered.
        (r#"[3,"a"]"#, IGNORED, IGNORED),
        (r#"[3,7,{}]"#, IGNORED, IGNORED),
        (r#"[3,"a",{},{}]"#, IGNORED, IGNORED),
        (r#"[4,"a","GenericError",{}]"#, IGNORED, IGNORED),
        (r#"[4,"a",1,"x",{}]"#, IGNORED, IGNORED),
        (r#"[4,null,"GenericError","x",{}]"#, IGNORED, IGNORED),
    ];

    #[test]
    fn malformed_messages_get_the_versions_answer() {
        for (text, on_16, on_201) in CASES {
            let error = match Frame::parse(text) {
                Ok(frame) => panic!("{text} parsed as {frame:?}"),
                Err(error) => error,
            };
            for (protocol, expected) in [(Protocol::V16, on_16), (Protocol::V201, on_201)] {
                let reply = error.reply(protocol).map(|frame| frame.to_text());
                match (reply.as_deref(), expected) {
                    (None, None) => {}
                    (Some(reply), Some(prefix)) => assert!(
                        reply.starts_with(prefix) && reply.ends_with(",{}]"),
                        "{text} on {protocol}: {reply}"
                    ),
                    (reply, expected) => {
                        panic!("{text} on {protocol}: got {reply:?}, expected {expected:?}")
                    }
                }
            }
        }
    }

    #[test]
    fn answers_say_what_was_wrong() {
        let error = Frame::parse(r#"[2,"a","Heartbeat"]"#).unwrap_err();
        assert_eq!(error.to_string(), "Call frame has 3 elements, not 4");
        let Some(Frame::CallError { description, .. }) = error.reply(Protocol::V201) else {
            panic!("no CALLERROR")
        };
        assert_eq!(description, "Call frame has 3 elements, not 4");
    }
}
