//! The OCPP trigger: charge points connect over WebSocket, speak OCPP-J 1.6 or 2.0.1, and
//! each CALL they send becomes one component invocation.
//!
//! For now the crate holds [`protocol`], the OCPP-J layer with no I/O; the WebSocket
//! endpoint and the invocation glue come on top of it.
//!
//! Payload schemas are the `ocpp-kit` crate's types, generated from the official OCA JSON
//! schemas and covering every 1.6 and 2.0.1 action; the `validate` module says why that crate
//! and not `rust-ocpp` or `ocpp-types`, and which CALLERROR code each violation gets.

pub mod protocol;
