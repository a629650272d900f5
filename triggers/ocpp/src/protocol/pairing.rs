//! One connection's CALL bookkeeping: at most one outstanding CALL per direction, answers
//! paired with their CALL by message id, and a charge point's retransmission recognised.
//!
//! Both versions forbid a second CALL before the first is answered or timed out (§4.1.1:
//! 1.6 "SHOULD NOT", 2.0.1 "SHALL NOT"); the rule holds per direction, and CALLs crossing
//! each other in opposite directions are allowed. Neither version names the code for a peer
//! that breaks it, so Joule answers `ProtocolError`, which both tables have.
//!
//! A charge point that timed out waiting may send its CALL again with the same id. Running it
//! twice would record a meter value or stop a transaction twice, so:
//! - while the first is still being handled, the copy is dropped: the answer that is coming
//!   carries the same id and answers both. (The spec lists "a call with the same unique
//!   identifier is being handled already" among CALLERROR situations, but a CALLERROR now
//!   would reach the charge point before the real answer and undo it.)
//! - once answered, the copy gets the stored answer again, and is not handled again.
//!
//! Only the last answered CALL is remembered, matched on id, action and payload: ids are
//! unique per connection, and a retransmission follows the call it repeats. Retransmissions
//! across a reconnection are not seen here; they are a new connection's first message.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::value::RawValue;
use thiserror::Error;

use super::{ErrorCode, Frame, MessageId, Protocol};

/// A CALL Joule sent and is waiting to see answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutstandingCall {
    pub message_id: MessageId,
    /// Needed to check the CALLRESULT's payload, which names no action.
    pub action: String,
}

/// What to do with a CALL the charge point just sent.
#[derive(Clone, Debug)]
pub enum InboundCall {
    /// A new CALL: handle it, then pass the answer to [`Pairing::answered`].
    Handle,
    /// The CALL answered last, sent again: send this answer again, handle nothing.
    Replay(Frame),
    /// The CALL being handled, sent again: send nothing; its answer is on the way.
    AlreadyHandling,
    /// Another CALL is being handled: send this CALLERROR (`ProtocolError`).
    Refuse(Frame),
}

/// A misuse of the bookkeeping by the connection code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PairingError {
    #[error("a CALL to the charge point is already outstanding ({0})")]
    CallOutstanding(MessageId),
    #[error("no CALL from the charge point is being handled under id {0}")]
    NotHandling(MessageId),
    #[error("an answer must be a CALLRESULT or CALLERROR")]
    NotAnAnswer,
}

#[derive(Clone, Debug)]
struct Handling {
    message_id: MessageId,
    fingerprint: u64,
}

#[derive(Clone, Debug)]
struct Answered {
    message_id: MessageId,
    fingerprint: u64,
    answer: Frame,
}

/// The per-connection state; one per WebSocket connection, owned by its task.
#[derive(Clone, Debug, Default)]
pub struct Pairing {
    outstanding: Option<OutstandingCall>,
    handling: Option<Handling>,
    last_answered: Option<Answered>,
}

impl Pairing {
    /// Decides what to do with a CALL from the charge point.
    pub fn receive_call(
        &mut self,
        protocol: Protocol,
        message_id: &MessageId,
        action: &str,
        payload: &RawValue,
    ) -> InboundCall {
        let fingerprint = fingerprint(action, payload);
        if let Some(handling) = &self.handling {
            if handling.message_id == *message_id && handling.fingerprint == fingerprint {
                return InboundCall::AlreadyHandling;
            }
            let description = format!(
                "CALL {} is still being handled; one CALL at a time",
                handling.message_id
            );
            let id = message_id.clone();
            return InboundCall::Refuse(Frame::call_error(
                protocol,
                id,
                ErrorCode::ProtocolError,
                &description,
                None,
            ));
        }
        if let Some(last) = &self.last_answered
            && last.message_id == *message_id
            && last.fingerprint == fingerprint
        {
            return InboundCall::Replay(last.answer.clone());
        }
        self.handling = Some(Handling {
            message_id: message_id.clone(),
            fingerprint,
        });
        InboundCall::Handle
    }

    /// Records the answer to the CALL being handled, which makes room for the next one.
    pub fn answered(&mut self, answer: &Frame) -> Result<(), PairingError> {
        if !matches!(answer, Frame::CallResult { .. } | Frame::CallError { .. }) {
            return Err(PairingError::NotAnAnswer);
        }
        let id = answer.message_id();
        let handling = match self.handling.take() {
            Some(handling) if handling.message_id == *id => handling,
            other => {
                self.handling = other;
                return Err(PairingError::NotHandling(id.clone()));
            }
        };
        self.last_answered = Some(Answered {
            message_id: handling.message_id,
            fingerprint: handling.fingerprint,
            answer: answer.clone(),
        });
        Ok(())
    }

    /// Whether a CALL from the charge point is being handled.
    pub fn is_handling(&self) -> bool {
        self.handling.is_some()
    }

    /// Records a CALL Joule is about to send, if none is outstanding.
    pub fn send_call(&mut self, message_id: MessageId, action: &str) -> Result<(), PairingError> {
        if let Some(outstanding) = &self.outstanding {
            return Err(PairingError::CallOutstanding(
                outstanding.message_id.clone(),
            ));
        }
        let action = action.to_owned();
        self.outstanding = Some(OutstandingCall { message_id, action });
        Ok(())
    }

    /// Pairs a CALLRESULT or CALLERROR from the charge point with Joule's outstanding CALL,
    /// which it ends. `None`: it answers nothing outstanding (late, after a timeout, or
    /// made up), and is to be dropped.
    pub fn receive_answer(&mut self, message_id: &MessageId) -> Option<OutstandingCall> {
        match &self.outstanding {
            Some(outstanding) if outstanding.message_id == *message_id => self.outstanding.take(),
            _ => None,
        }
    }

    /// Gives up on the outstanding CALL (its timeout passed), making room for the next.
    pub fn abandon_call(&mut self) -> Option<OutstandingCall> {
        self.outstanding.take()
    }

    /// Joule's CALL awaiting an answer, if any.
    pub fn outstanding(&self) -> Option<&OutstandingCall> {
        self.outstanding.as_ref()
    }
}

/// Tells a retransmission from a different CALL that reuses an id. `DefaultHasher::new()`
/// is deterministic within a process, which is all a connection needs.
fn fingerprint(action: &str, payload: &RawValue) -> u64 {
    let mut hasher = DefaultHasher::new();
    action.hash(&mut hasher);
    payload.get().hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> MessageId {
        MessageId::new(text).unwrap()
    }

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn result(message_id: &str, payload: &str) -> Frame {
        Frame::CallResult {
            message_id: id(message_id),
            payload: raw(payload),
        }
    }

    const METER: &str = r#"{"connectorId":1,"meterValue":[{"timestamp":"2024-05-01T10:30:00Z","sampledValue":[{"value":"2935.600"}]}]}"#;

    #[test]
    fn a_call_is_handled_once_and_its_retransmission_replayed() {
        let mut pairing = Pairing::default();
        let call =
            |p: &mut Pairing| p.receive_call(Protocol::V16, &id("m1"), "MeterValues", &raw(METER));

        assert!(matches!(call(&mut pairing), InboundCall::Handle));
        assert!(pairing.is_handling());
        // Sent again while still being handled: wait for the one answer.
        assert!(matches!(call(&mut pairing), InboundCall::AlreadyHandling));

        pairing.answered(&result("m1", "{}")).unwrap();
        assert!(!pairing.is_handling());
        // Sent again after the answer: the same answer, not a second run.
        let InboundCall::Replay(answer) = call(&mut pairing) else {
            panic!("not replayed")
        };
        assert_eq!(answer.to_text(), r#"[3,"m1",{}]"#);
        assert!(!pairing.is_handling());

        // The next CALL is new.
        let next = pairing.receive_call(Protocol::V16, &id("m2"), "Heartbeat", &raw("{}"));
        assert!(matches!(next, InboundCall::Handle));
    }

    #[test]
    fn a_stored_error_answer_is_replayed_too() {
        let mut pairing = Pairing::default();
        let call =
            |p: &mut Pairing| p.receive_call(Protocol::V201, &id("a"), "Authorize", &raw("{}"));
        assert!(matches!(call(&mut pairing), InboundCall::Handle));
        let error = Frame::call_error(
            Protocol::V201,
            id("a"),
            ErrorCode::InternalError,
            "trap",
            None,
        );
        pairing.answered(&error).unwrap();
        let InboundCall::Replay(answer) = call(&mut pairing) else {
            panic!("not replayed")
        };
        assert_eq!(answer.to_text(), r#"[4,"a","InternalError","trap",{}]"#);
    }

    #[test]
    fn a_reused_id_with_other_content_is_a_new_call() {
        let mut pairing = Pairing::default();
        assert!(matches!(
            pairing.receive_call(Protocol::V16, &id("x"), "Heartbeat", &raw("{}")),
            InboundCall::Handle
        ));
        pairing
            .answered(&result("x", r#"{"currentTime":"2024-05-01T10:00:00Z"}"#))
            .unwrap();
        assert!(matches!(
            pairing.receive_call(
                Protocol::V16,
                &id("x"),
                "Authorize",
                &raw(r#"{"idTag":"T"}"#)
            ),
            InboundCall::Handle
        ));
    }

    #[test]
    fn a_second_call_before_the_first_is_answered_is_refused() {
        for (protocol, expected) in [
            (
                Protocol::V16,
                r#"[4,"b","ProtocolError","CALL a is still being handled; one CALL at a time",{}]"#,
            ),
            (
                Protocol::V201,
                r#"[4,"b","ProtocolError","CALL a is still being handled; one CALL at a time",{}]"#,
            ),
        ] {
            let mut pairing = Pairing::default();
            assert!(matches!(
                pairing.receive_call(protocol, &id("a"), "StatusNotification", &raw("{}")),
                InboundCall::Handle
            ));
            let InboundCall::Refuse(error) =
                pairing.receive_call(protocol, &id("b"), "Heartbeat", &raw("{}"))
            else {
                panic!("not refused")
            };
            assert_eq!(error.to_text(), expected);
            // The first is still the one being handled.
            assert_eq!(
                pairing.answered(&result("b", "{}")),
                Err(PairingError::NotHandling(id("b")))
            );
            assert!(pairing.answered(&result("a", "{}")).is_ok());
        }
    }

    #[test]
    fn answers_must_answer_the_call_being_handled() {
        let mut pairing = Pairing::default();
        assert_eq!(
            pairing.answered(&result("z", "{}")),
            Err(PairingError::NotHandling(id("z")))
        );
        let call = Frame::Call {
            message_id: id("z"),
            action: "Heartbeat".into(),
            payload: raw("{}"),
        };
        assert_eq!(pairing.answered(&call), Err(PairingError::NotAnAnswer));
    }

    #[test]
    fn one_outstanding_call_to_the_charge_point() {
        let mut pairing = Pairing::default();
        pairing
            .send_call(id("c1"), "RemoteStartTransaction")
            .unwrap();
        assert_eq!(
            pairing.send_call(id("c2"), "ReserveNow"),
            Err(PairingError::CallOutstanding(id("c1")))
        );
        // An answer under another id pairs with nothing and ends nothing.
        assert_eq!(pairing.receive_answer(&id("c0")), None);
        assert!(pairing.outstanding().is_some());
        // A CALL from the charge point may cross ours.
        assert!(matches!(
            pairing.receive_call(Protocol::V16, &id("m9"), "Heartbeat", &raw("{}")),
            InboundCall::Handle
        ));
        let ended = pairing.receive_answer(&id("c1")).unwrap();
        assert_eq!(ended.action, "RemoteStartTransaction");
        // A late duplicate of the answer pairs with nothing.
        assert_eq!(pairing.receive_answer(&id("c1")), None);
        pairing.send_call(id("c2"), "ReserveNow").unwrap();
    }

    #[test]
    fn a_timed_out_call_makes_room() {
        let mut pairing = Pairing::default();
        pairing.send_call(id("c1"), "CancelReservation").unwrap();
        assert_eq!(pairing.abandon_call().map(|c| c.message_id), Some(id("c1")));
        assert_eq!(pairing.receive_answer(&id("c1")), None);
        pairing.send_call(id("c2"), "CancelReservation").unwrap();
    }
}
