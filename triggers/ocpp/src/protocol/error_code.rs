//! The error codes a CALLERROR may carry, and how each version spells them.
//!
//! The two tables differ in more than spelling. OCPP-J 1.6 (Table 7) prints
//! `FormationViolation` and `OccurenceConstraintViolation` (one "r"); its errata sheet keeps
//! both as "known issues that will not be fixed". OCPP 2.0.1 Part 4 (Table 8) renames them
//! `FormatViolation` and `OccurrenceConstraintViolation` and adds `MessageTypeNotSupported`
//! and `RpcFrameworkError`. Joule reasons in one set of codes and spells them for the version
//! of the connection; codes a version lacks fall back to the nearest one it has, so nothing
//! outside that version's table ever goes on the wire.

use super::Protocol;

/// One CALLERROR code, independent of how a version spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The payload, or the frame around it, is syntactically incorrect.
    FormatViolation,
    /// Any error the other codes do not cover.
    GenericError,
    /// The receiver failed while processing an action it understood.
    InternalError,
    /// A message type number this implementation does not support (2.0.1 only).
    MessageTypeNotSupported,
    /// The action is not known to the receiver.
    NotImplemented,
    /// The action is known, but the receiver does not support it.
    NotSupported,
    /// A field occurs too few or too many times, e.g. a required field is missing.
    OccurrenceConstraintViolation,
    /// A field holds a value outside its constraints: too long, out of range, not in its enum.
    PropertyConstraintViolation,
    /// 1.6: the payload is incomplete; 2.0.1: it does not conform to the PDU structure.
    ProtocolError,
    /// The message is not a valid RPC frame, e.g. its message id cannot be read (2.0.1 only).
    RpcFrameworkError,
    /// Processing the action ran into a security issue.
    SecurityError,
    /// A field has the wrong data type (`"somestring": 12`).
    TypeConstraintViolation,
}

impl ErrorCode {
    /// Every code, in the order of the 2.0.1 table.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::FormatViolation,
        ErrorCode::GenericError,
        ErrorCode::InternalError,
        ErrorCode::MessageTypeNotSupported,
        ErrorCode::NotImplemented,
        ErrorCode::NotSupported,
        ErrorCode::OccurrenceConstraintViolation,
        ErrorCode::PropertyConstraintViolation,
        ErrorCode::ProtocolError,
        ErrorCode::RpcFrameworkError,
        ErrorCode::SecurityError,
        ErrorCode::TypeConstraintViolation,
    ];

    /// Whether `protocol`'s table defines this code.
    pub const fn exists_in(self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::V201 => true,
            Protocol::V16 => !matches!(
                self,
                ErrorCode::MessageTypeNotSupported | ErrorCode::RpcFrameworkError
            ),
        }
    }

    /// The code to send on a `protocol` connection: this one, or the nearest code the version
    /// has. 1.6 describes `FormationViolation` as "syntactically incorrect or not conform the
    /// PDU structure", which covers a broken RPC frame; an unsupported message type has no
    /// 1.6 counterpart (1.6 ignores such messages), so it would go out as `GenericError`.
    pub const fn for_protocol(self, protocol: Protocol) -> ErrorCode {
        match (self, protocol) {
            (ErrorCode::RpcFrameworkError, Protocol::V16) => ErrorCode::FormatViolation,
            (ErrorCode::MessageTypeNotSupported, Protocol::V16) => ErrorCode::GenericError,
            (code, _) => code,
        }
    }

    /// The code's name on a `protocol` connection, after [`ErrorCode::for_protocol`].
    pub const fn wire_name(self, protocol: Protocol) -> &'static str {
        match (self.for_protocol(protocol), protocol) {
            (ErrorCode::FormatViolation, Protocol::V16) => "FormationViolation",
            (ErrorCode::FormatViolation, Protocol::V201) => "FormatViolation",
            (ErrorCode::OccurrenceConstraintViolation, Protocol::V16) => {
                "OccurenceConstraintViolation"
            }
            (ErrorCode::OccurrenceConstraintViolation, Protocol::V201) => {
                "OccurrenceConstraintViolation"
            }
            (ErrorCode::GenericError, _) => "GenericError",
            (ErrorCode::InternalError, _) => "InternalError",
            (ErrorCode::MessageTypeNotSupported, _) => "MessageTypeNotSupported",
            (ErrorCode::NotImplemented, _) => "NotImplemented",
            (ErrorCode::NotSupported, _) => "NotSupported",
            (ErrorCode::PropertyConstraintViolation, _) => "PropertyConstraintViolation",
            (ErrorCode::ProtocolError, _) => "ProtocolError",
            (ErrorCode::RpcFrameworkError, _) => "RpcFrameworkError",
            (ErrorCode::SecurityError, _) => "SecurityError",
            (ErrorCode::TypeConstraintViolation, _) => "TypeConstraintViolation",
        }
    }

    /// Reads a code a peer sent. Every spelling of every version is accepted on every
    /// connection: charge points mix them up, and refusing a peer's error report helps no one.
    pub fn from_wire(name: &str) -> Option<ErrorCode> {
        Some(match name {
            "FormatViolation" | "FormationViolation" => ErrorCode::FormatViolation,
            "OccurrenceConstraintViolation" | "OccurenceConstraintViolation" => {
                ErrorCode::OccurrenceConstraintViolation
            }
            "GenericError" => ErrorCode::GenericError,
            "InternalError" => ErrorCode::InternalError,
            "MessageTypeNotSupported" => ErrorCode::MessageTypeNotSupported,
            "NotImplemented" => ErrorCode::NotImplemented,
            "NotSupported" => ErrorCode::NotSupported,
            "PropertyConstraintViolation" => ErrorCode::PropertyConstraintViolation,
            "ProtocolError" => ErrorCode::ProtocolError,
            "RpcFrameworkError" => ErrorCode::RpcFrameworkError,
            "SecurityError" => ErrorCode::SecurityError,
            "TypeConstraintViolation" => ErrorCode::TypeConstraintViolation,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each version's table, as its specification prints it.
    const V16_TABLE: [&str; 10] = [
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    ];
    const V201_TABLE: [&str; 12] = [
        "FormatViolation",
        "GenericError",
        "InternalError",
        "MessageTypeNotSupported",
        "NotImplemented",
        "NotSupported",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "ProtocolError",
        "RpcFrameworkError",
        "SecurityError",
        "TypeConstraintViolation",
    ];

    fn table(protocol: Protocol) -> &'static [&'static str] {
        match protocol {
            Protocol::V16 => &V16_TABLE,
            Protocol::V201 => &V201_TABLE,
        }
    }

    #[test]
    fn every_code_goes_out_as_a_name_from_the_versions_table() {
        for protocol in Protocol::ALL {
            for code in ErrorCode::ALL {
                let name = code.wire_name(protocol);
                assert!(
                    table(protocol).contains(&name),
                    "{code:?} on {protocol} is {name}"
                );
            }
        }
    }

    #[test]
    fn every_name_in_a_table_is_reachable_and_read_back() {
        for protocol in Protocol::ALL {
            for name in table(protocol) {
                let code = ErrorCode::from_wire(name).expect(name);
                assert!(code.exists_in(protocol));
                assert_eq!(code.wire_name(protocol), *name);
            }
        }
    }

    #[test]
    fn spellings_differ_where_the_specifications_differ() {
        let cases = [
            (
                ErrorCode::FormatViolation,
                "FormationViolation",
                "FormatViolation",
            ),
            (
                ErrorCode::OccurrenceConstraintViolation,
                "OccurenceConstraintViolation",
                "OccurrenceConstraintViolation",
            ),
            (
                ErrorCode::RpcFrameworkError,
                "FormationViolation",
                "RpcFrameworkError",
            ),
            (
                ErrorCode::MessageTypeNotSupported,
                "GenericError",
                "MessageTypeNotSupported",
            ),
            (
                ErrorCode::NotImplemented,
                "NotImplemented",
                "NotImplemented",
            ),
            (
                ErrorCode::PropertyConstraintViolation,
                "PropertyConstraintViolation",
                "PropertyConstraintViolation",
            ),
        ];
        for (code, v16, v201) in cases {
            assert_eq!(code.wire_name(Protocol::V16), v16, "{code:?}");
            assert_eq!(code.wire_name(Protocol::V201), v201, "{code:?}");
        }
    }

    #[test]
    fn either_spelling_is_read_on_any_connection() {
        assert_eq!(
            ErrorCode::from_wire("FormationViolation"),
            Some(ErrorCode::FormatViolation)
        );
        assert_eq!(
            ErrorCode::from_wire("OccurenceConstraintViolation"),
            Some(ErrorCode::OccurrenceConstraintViolation)
        );
        assert_eq!(ErrorCode::from_wire("formatviolation"), None);
        assert_eq!(ErrorCode::from_wire("Teapot"), None);
    }
}
