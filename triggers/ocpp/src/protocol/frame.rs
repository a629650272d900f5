//! OCPP-J RPC framing: one WebSocket text message is one JSON array, a CALL, a CALLRESULT
//! or a CALLERROR.
//!
//! Payloads stay raw JSON text. A meter value sent as `2935.600` claims three decimals of
//! resolution; parsing it into a float and writing it back would say something else, and
//! the component that bills the session should see what the meter said.

use serde_json::Value;
use serde_json::value::RawValue;

use super::frame_error::{FrameError, UnreadableId};
use super::{ErrorCode, MessageId, Protocol};

/// The three message types of OCPP-J 1.6 and 2.0.1, by their type number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `2`: a request.
    Call,
    /// `3`: the answer to a CALL.
    CallResult,
    /// `4`: the error answer to a CALL.
    CallError,
}

impl MessageType {
    /// The type number that opens the array.
    pub const fn type_id(self) -> u8 {
        match self {
            MessageType::Call => 2,
            MessageType::CallResult => 3,
            MessageType::CallError => 4,
        }
    }

    /// How many elements a frame of this type has.
    pub const fn arity(self) -> usize {
        match self {
            MessageType::Call => 4,
            MessageType::CallResult => 3,
            MessageType::CallError => 5,
        }
    }

    fn from_type_id(id: i64) -> Option<MessageType> {
        match id {
            2 => Some(MessageType::Call),
            3 => Some(MessageType::CallResult),
            4 => Some(MessageType::CallError),
            _ => None,
        }
    }
}

/// One OCPP-J message.
#[derive(Clone, Debug)]
pub enum Frame {
    /// `[2, messageId, action, payload]`
    Call {
        message_id: MessageId,
        action: String,
        payload: Box<RawValue>,
    },
    /// `[3, messageId, payload]`
    CallResult {
        message_id: MessageId,
        payload: Box<RawValue>,
    },
    /// `[4, messageId, errorCode, errorDescription, errorDetails]`. The code is kept as the
    /// peer spelled it; [`ErrorCode::from_wire`] reads it.
    CallError {
        message_id: MessageId,
        code: String,
        description: String,
        details: Box<RawValue>,
    },
}

impl Frame {
    /// The longest `errorDescription` 2.0.1 allows (Part 4 Table 7), applied to 1.6 too.
    pub const MAX_DESCRIPTION_CHARS: usize = 255;

    /// A CALLERROR answering `message_id`, with the code spelled for `protocol`. The
    /// description is cut to [`Frame::MAX_DESCRIPTION_CHARS`]; absent details become `{}`,
    /// which both versions require when there are none.
    pub fn call_error(
        protocol: Protocol,
        message_id: MessageId,
        code: ErrorCode,
        description: &str,
        details: Option<Value>,
    ) -> Frame {
        let details = details.unwrap_or_else(|| Value::Object(Default::default()));
        Frame::CallError {
            message_id,
            code: code.wire_name(protocol).to_owned(),
            description: description
                .chars()
                .take(Frame::MAX_DESCRIPTION_CHARS)
                .collect(),
            details: raw(&details),
        }
    }

    /// The frame's message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Frame::Call { .. } => MessageType::Call,
            Frame::CallResult { .. } => MessageType::CallResult,
            Frame::CallError { .. } => MessageType::CallError,
        }
    }

    /// The frame's message id.
    pub fn message_id(&self) -> &MessageId {
        match self {
            Frame::Call { message_id, .. }
            | Frame::CallResult { message_id, .. }
            | Frame::CallError { message_id, .. } => message_id,
        }
    }

    /// Reads one WebSocket text message. The error says how (and whether) to answer.
    pub fn parse(text: &str) -> Result<Frame, FrameError> {
        let elements: Vec<&RawValue> = serde_json::from_str(text).map_err(|error| {
            // Well-formed JSON that is not an array is a different failure from broken JSON.
            match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => FrameError::NotAnArray,
                Err(_) => FrameError::NotJson(error.to_string()),
            }
        })?;
        let (first, rest) = elements.split_first().ok_or(FrameError::Empty)?;
        let type_id: i64 = serde_json::from_str(first.get())
            .map_err(|_| FrameError::InvalidMessageType(first.get().to_owned()))?;
        let message_id = rest.first().map(|raw| read_message_id(raw));

        let Some(message_type) = MessageType::from_type_id(type_id) else {
            return Err(FrameError::UnknownMessageType {
                type_id,
                message_id: message_id.and_then(Result::ok),
            });
        };
        let message_id = message_id
            .unwrap_or(Err(UnreadableId::Missing))
            .map_err(|reason| FrameError::UnreadableMessageId {
                message_type,
                reason,
            })?;
        if elements.len() != message_type.arity() {
            return Err(FrameError::WrongArity {
                message_type,
                message_id,
                found: elements.len(),
            });
        }

        Ok(match message_type {
            MessageType::Call => {
                let action = read_string(elements[2])
                    .filter(|action| !action.is_empty())
                    .ok_or_else(|| FrameError::InvalidAction {
                        message_id: message_id.clone(),
                    })?;
                Frame::Call {
                    message_id,
                    action,
                    payload: elements[3].to_owned(),
                }
            }
            MessageType::CallResult => Frame::CallResult {
                message_id,
                payload: elements[2].to_owned(),
            },
            MessageType::CallError => {
                let (Some(code), Some(description)) =
                    (read_string(elements[2]), read_string(elements[3]))
                else {
                    return Err(FrameError::InvalidCallError { message_id });
                };
                Frame::CallError {
                    message_id,
                    code,
                    description,
                    details: elements[4].to_owned(),
                }
            }
        })
    }

    /// The WebSocket text message for this frame, compact, payloads exactly as held.
    pub fn to_text(&self) -> String {
        // `Value`'s Display cannot fail, unlike `serde_json::to_string`, and quotes and
        // escapes a string exactly as JSON requires.
        let quote = |s: &str| Value::from(s).to_string();
        match self {
            Frame::Call {
                message_id,
                action,
                payload,
            } => format!(
                "[2,{},{},{}]",
                quote(message_id.as_str()),
                quote(action),
                payload.get()
            ),
            Frame::CallResult {
                message_id,
                payload,
            } => {
                format!("[3,{},{}]", quote(message_id.as_str()), payload.get())
            }
            Frame::CallError {
                message_id,
                code,
                description,
                details,
            } => format!(
                "[4,{},{},{},{}]",
                quote(message_id.as_str()),
                quote(code),
                quote(description),
                details.get()
            ),
        }
    }
}

fn read_message_id(raw: &RawValue) -> Result<MessageId, UnreadableId> {
    let id = read_string(raw).ok_or(UnreadableId::NotAString)?;
    MessageId::new(id).map_err(UnreadableId::Invalid)
}

fn read_string(raw: &RawValue) -> Option<String> {
    serde_json::from_str(raw.get()).ok()
}

/// Raw JSON text for a value. A `Value`'s Display is always valid JSON, so the fallback
/// (`null`) is unreachable; it only spares a panic path.
fn raw(value: &Value) -> Box<RawValue> {
    RawValue::from_string(value.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Frame {
        Frame::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn reads_a_16_boot_notification_call() {
        let text = r#"[2,"19223201","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"X1"}]"#;
        let Frame::Call {
            message_id,
            action,
            payload,
        } = parse(text)
        else {
            panic!("not a CALL")
        };
        assert_eq!(message_id.as_str(), "19223201");
        assert_eq!(action, "BootNotification");
        assert_eq!(
            payload.get(),
            r#"{"chargePointVendor":"Acme","chargePointModel":"X1"}"#
        );
    }

    #[test]
    fn reads_a_201_call_with_whitespace_and_keeps_the_payload_text() {
        let text = "[2, \"a1\" ,\n \"BootNotification\", {\"chargingStation\": {\"model\": \"X1\", \"vendorName\": \"Acme\"}, \"reason\": \"PowerUp\"}]";
        let Frame::Call { payload, .. } = parse(text) else {
            panic!("not a CALL")
        };
        assert_eq!(
            payload.get(),
            r#"{"chargingStation": {"model": "X1", "vendorName": "Acme"}, "reason": "PowerUp"}"#
        );
    }

    #[test]
    fn reads_call_results_and_call_errors() {
        let result = parse(
            r#"[3,"19223201",{"status":"Accepted","currentTime":"2013-02-01T20:53:32.486Z","interval":300}]"#,
        );
        assert_eq!(result.message_type(), MessageType::CallResult);
        assert_eq!(result.message_id().as_str(), "19223201");

        let error = parse(
            r#"[4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}]"#,
        );
        let Frame::CallError {
            message_id,
            code,
            description,
            details,
        } = error
        else {
            panic!("not a CALLERROR")
        };
        assert_eq!(message_id.as_str(), "162376037");
        assert_eq!(ErrorCode::from_wire(&code), Some(ErrorCode::NotSupported));
        assert_eq!(description, "SetDisplayMessageRequest not implemented");
        assert_eq!(details.get(), "{}");
    }

    #[test]
    fn meter_readings_keep_their_digits() {
        let text = r#"[2,"m1","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2024-05-01T10:30:00Z","sampledValue":[{"value":"2935.600"}]}],"x":2935.600}]"#;
        assert_eq!(parse(text).to_text(), text);
    }

    #[test]
    fn serialises_the_exact_array_forms() {
        let id = || MessageId::new("abc-1").unwrap();
        let payload =
            || RawValue::from_string(r#"{"currentTime":"2024-05-01T10:00:00Z"}"#.into()).unwrap();
        let cases = [
            (
                Frame::Call {
                    message_id: id(),
                    action: "Heartbeat".into(),
                    payload: RawValue::from_string("{}".into()).unwrap(),
                },
                r#"[2,"abc-1","Heartbeat",{}]"#,
            ),
            (
                Frame::CallResult {
                    message_id: id(),
                    payload: payload(),
                },
                r#"[3,"abc-1",{"currentTime":"2024-05-01T10:00:00Z"}]"#,
            ),
            (
                Frame::call_error(
                    Protocol::V16,
                    id(),
                    ErrorCode::FormatViolation,
                    "bad \"payload\"",
                    None,
                ),
                r#"[4,"abc-1","FormationViolation","bad \"payload\"",{}]"#,
            ),
            (
                Frame::call_error(
                    Protocol::V201,
                    id(),
                    ErrorCode::OccurrenceConstraintViolation,
                    "missing field",
                    Some(serde_json::json!({"path": "/chargingStation/model"})),
                ),
                r#"[4,"abc-1","OccurrenceConstraintViolation","missing field",{"path":"/chargingStation/model"}]"#,
            ),
        ];
        for (frame, text) in cases {
            assert_eq!(frame.to_text(), text);
            // And what goes out reads back as the same frame.
            assert_eq!(parse(text).to_text(), text);
        }
    }

    #[test]
    fn long_descriptions_are_cut_to_255_characters() {
        let long = "é".repeat(300);
        let frame = Frame::call_error(
            Protocol::V201,
            MessageId::unreadable(),
            ErrorCode::GenericError,
            &long,
            None,
        );
        let Frame::CallError { description, .. } = frame else {
            panic!("not a CALLERROR")
        };
        assert_eq!(description.chars().count(), Frame::MAX_DESCRIPTION_CHARS);
    }
}
