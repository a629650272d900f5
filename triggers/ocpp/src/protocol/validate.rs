//! Checking a payload against the OCPP JSON schema of its action, and naming what is wrong
//! with the CALLERROR code the specifications give it.
//!
//! The schemas come as Rust types from the `ocpp-kit` crate, generated from the official
//! OCA JSON schemas of 1.6 and 2.0.1 (every action, both directions) and checked against
//! them in that crate's CI. Why that crate: it covers both versions completely, it keeps
//! "missing", "wrong type" and "bad value" apart (serde errors alone do not), and it brings
//! nothing heavy with it. `rust-ocpp`, the older choice, turns on `serde_json`'s
//! `arbitrary_precision` for the whole workspace (through `rust_decimal`), its 3.x pulls
//! `jsonschema` with an HTTP client, and its `validator` constraints leave unknown members
//! unchecked; `ocpp-types` is `no_std` on `heapless` and `serde-json-core`, a poor fit for a
//! host that holds payloads as `serde_json` text.
//!
//! Codes, per the meaning each version's error table gives them:
//!
//! | what is wrong | code (1.6 / 2.0.1 spelling) |
//! |---|---|
//! | action unknown to the version | `NotImplemented` ("not known by receiver") |
//! | action known, but sent by the other side only | `NotSupported` ("recognized but not supported") |
//! | payload not a JSON object | `FormationViolation` / `FormatViolation` |
//! | required member missing, array too short or long | `OccurenceConstraintViolation` / `OccurrenceConstraintViolation` |
//! | member of the wrong JSON type | `TypeConstraintViolation` |
//! | string too long, number out of range, value not in its enum, bad date-time | `PropertyConstraintViolation` |
//! | member the schema does not define (`additionalProperties: false`) | `FormationViolation` / `FormatViolation` |
//! | members that break a rule between them | `ProtocolError` |
//!
//! The PyPI `ocpp` package (2.1.0, `messages.py`) maps differently and the same on both
//! versions: missing member `ProtocolError`, too long `TypeConstraintViolation`, bad enum
//! value `FormatViolation`; and `_raise_key_error` in its `charge_point.py` swaps
//! `NotImplemented` and `NotSupported` against the tables' descriptions. Joule follows the
//! tables, which is also what lets `PropertyConstraintViolation` mean anything at all.
//!
//! Two leniencies, both about what chargers really send: a `null` payload counts as `{}`
//! (both versions call the two notations equivalent, preferring `{}`), and a date-time
//! without an offset is read as UTC (the schemas' `format: date-time` is not enforced by
//! the Python package either, and its examples send naive times). Unknown members are
//! refused by default, as the schemas say; [`Validator::ignoring_unknown_members`] is there
//! for fleets that add vendor members outside `customData`.

use ocpp_kit::decode::{
    DateTimeLeniency, DecodeError, DecodeErrorKind, DecodeOptions, UnknownFields,
};
use serde_json::Value;
use serde_json::value::RawValue;
use thiserror::Error;

use super::{ErrorCode, Frame, MessageId, Protocol};

/// The side that sent the CALL a payload belongs to. A CALLRESULT's payload is checked
/// against the action of the CALL it answers, so it names the CALL's sender too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Initiator {
    ChargePoint,
    Csms,
}

impl std::fmt::Display for Initiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Initiator::ChargePoint => "charge point",
            Initiator::Csms => "CSMS",
        })
    }
}

/// What kind of schema violation a payload has; decides the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Violation {
    /// Not a JSON object, or not JSON.
    Format,
    /// A required member is missing, or an array has too few or too many items.
    Occurrence,
    /// A member has the wrong JSON type.
    Type,
    /// A value breaks its constraint: length, range, enum, date-time.
    Property,
    /// A member the schema does not define.
    UnknownMember,
    /// Members individually valid but inconsistent with each other.
    CrossMember,
}

/// Why a payload was refused.
#[derive(Debug, Clone, Error)]
pub enum PayloadError {
    #[error("{action:?} is not an OCPP {protocol} action")]
    UnknownAction { protocol: Protocol, action: String },
    #[error("OCPP {protocol} {action:?} is not a CALL the {initiator} sends")]
    WrongDirection {
        protocol: Protocol,
        action: String,
        initiator: Initiator,
    },
    #[error("{}{reason}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    Invalid {
        violation: Violation,
        /// JSON pointer to the offending member; empty for the whole payload.
        path: String,
        reason: String,
    },
}

impl PayloadError {
    /// The CALLERROR code for this refusal; [`ErrorCode::wire_name`] spells it per version.
    pub fn code(&self) -> ErrorCode {
        match self {
            PayloadError::UnknownAction { .. } => ErrorCode::NotImplemented,
            PayloadError::WrongDirection { .. } => ErrorCode::NotSupported,
            PayloadError::Invalid { violation, .. } => match violation {
                Violation::Format | Violation::UnknownMember => ErrorCode::FormatViolation,
                Violation::Occurrence => ErrorCode::OccurrenceConstraintViolation,
                Violation::Type => ErrorCode::TypeConstraintViolation,
                Violation::Property => ErrorCode::PropertyConstraintViolation,
                Violation::CrossMember => ErrorCode::ProtocolError,
            },
        }
    }

    /// `errorDetails` for the CALLERROR: where in the payload the problem is, if anywhere.
    pub fn details(&self) -> Option<Value> {
        match self {
            PayloadError::Invalid { path, .. } if !path.is_empty() => {
                Some(serde_json::json!({ "path": path }))
            }
            _ => None,
        }
    }

    /// The CALLERROR answering the CALL `message_id` whose payload this refuses.
    pub fn to_call_error(&self, protocol: Protocol, message_id: MessageId) -> Frame {
        let description = self.to_string();
        Frame::call_error(
            protocol,
            message_id,
            self.code(),
            &description,
            self.details(),
        )
    }
}

/// Checks payloads against the schemas. Cheap to build; build one per trigger.
#[derive(Clone, Debug)]
pub struct Validator {
    options: DecodeOptions,
}

impl Default for Validator {
    /// Unknown members refused, offset-less date-times read as UTC.
    fn default() -> Self {
        let mut options = DecodeOptions::strict();
        options.unknown_fields = UnknownFields::Reject;
        options.datetime = DateTimeLeniency::AllowNaive;
        Validator { options }
    }
}

#[derive(Clone, Copy)]
enum Half {
    Request,
    Response,
}

/// Decodes `$payload` with the dispatch tables `ocpp-kit` generates for module `$version`.
/// Evaluates to `None` for an action the version does not define. Both versions' tables
/// have the same shape, so one macro serves both and every action of each.
macro_rules! decode {
    ($version:ident, $initiator:expr, $half:expr, $action:expr, $payload:expr, $options:expr) => {{
        use ocpp_kit::$version as v;
        v::Action::from_wire($action).map(|action| match ($initiator, $half) {
            (Initiator::ChargePoint, Half::Request) => {
                v::CsRequest::decode(action, $payload, $options).map(drop)
            }
            (Initiator::ChargePoint, Half::Response) => {
                v::CsResponse::decode(action, $payload, $options).map(drop)
            }
            (Initiator::Csms, Half::Request) => {
                v::CsmsRequest::decode(action, $payload, $options).map(drop)
            }
            (Initiator::Csms, Half::Response) => {
                v::CsmsResponse::decode(action, $payload, $options).map(drop)
            }
        })
    }};
}

impl Validator {
    /// Like the default, but members the schema does not define are let through.
    pub fn ignoring_unknown_members() -> Self {
        let mut validator = Validator::default();
        validator.options.unknown_fields = UnknownFields::Ignore;
        validator
    }

    /// Checks the payload of a CALL for `action`, sent by `initiator`.
    pub fn request(
        &self,
        protocol: Protocol,
        initiator: Initiator,
        action: &str,
        payload: &RawValue,
    ) -> Result<(), PayloadError> {
        self.check(protocol, initiator, Half::Request, action, payload)
    }

    /// Whether `initiator` sends `action` as a CALL in `protocol`: decoding an empty payload
    /// tells an unknown or wrong-way action from a merely incomplete payload.
    pub fn is_call_from(&self, protocol: Protocol, initiator: Initiator, action: &str) -> bool {
        let empty = RawValue::from_string("{}".to_owned()).expect("{} is JSON");
        !matches!(
            self.request(protocol, initiator, action, &empty),
            Err(PayloadError::UnknownAction { .. } | PayloadError::WrongDirection { .. })
        )
    }

    /// Checks the payload of a CALLRESULT answering a CALL for `action` sent by `initiator`.
    pub fn response(
        &self,
        protocol: Protocol,
        initiator: Initiator,
        action: &str,
        payload: &RawValue,
    ) -> Result<(), PayloadError> {
        self.check(protocol, initiator, Half::Response, action, payload)
    }

    fn check(
        &self,
        protocol: Protocol,
        initiator: Initiator,
        half: Half,
        action: &str,
        payload: &RawValue,
    ) -> Result<(), PayloadError> {
        let empty;
        let payload = if payload.get().trim() == "null" {
            empty = RawValue::from_string("{}".to_owned()).unwrap_or_default();
            &*empty
        } else {
            payload
        };
        let decoded = match protocol {
            Protocol::V16 => decode!(v1_6, initiator, half, action, payload, &self.options),
            Protocol::V201 => decode!(v2_0_1, initiator, half, action, payload, &self.options),
        };
        let error = match decoded {
            Some(Ok(())) => return Ok(()),
            Some(Err(error)) => error,
            None => {
                let action = action.to_owned();
                return Err(PayloadError::UnknownAction { protocol, action });
            }
        };
        let violation = match error.kind {
            DecodeErrorKind::UnsupportedAction => {
                let action = action.to_owned();
                return Err(PayloadError::WrongDirection {
                    protocol,
                    action,
                    initiator,
                });
            }
            DecodeErrorKind::Occurrence => Violation::Occurrence,
            DecodeErrorKind::Type => Violation::Type,
            DecodeErrorKind::Property => Violation::Property,
            DecodeErrorKind::UnknownField => Violation::UnknownMember,
            DecodeErrorKind::Protocol => Violation::CrossMember,
            // `Format`, and whatever kinds later versions of the crate add.
            _ => Violation::Format,
        };
        let DecodeError { path, reason, .. } = error;
        let path = json_pointer(&path);
        Err(PayloadError::Invalid {
            violation,
            path,
            reason,
        })
    }
}

/// `ocpp-kit` reports members as JSON pointers but array items, when serde found the fault,
/// as `/meterValue[0]`; CALLERROR details use pointers throughout. OCPP member names never
/// contain brackets, so rewriting them is safe.
fn json_pointer(path: &str) -> String {
    path.replace('[', "/").replace(']', "")
}

#[cfg(test)]
mod tests;
