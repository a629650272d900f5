//! OCPP-J as data: frames in and out, the error codes of each version, payloads checked
//! against the OCPP JSON schemas, and the CALL pairing of one connection. No sockets and no
//! clock here, so every rule of the specifications is a plain unit test.
//!
//! Sources: OCPP-J 1.6 (sections 4.1–4.2, Table 7) and OCPP 2.0.1 Part 4 (sections 4.1–4.4,
//! Table 8); where they leave a choice, the module that makes it says which and why.

mod error_code;
mod frame;
mod frame_error;
mod message_id;
mod pairing;
mod validate;
mod version;

pub use error_code::ErrorCode;
pub use frame::{Frame, MessageType};
pub use frame_error::{FrameError, UnreadableId};
pub use message_id::{InvalidMessageId, MessageId};
pub use pairing::{InboundCall, OutstandingCall, Pairing, PairingError};
pub use validate::{Initiator, PayloadError, Validator, Violation};
pub use version::Protocol;
