//! A charge point's connection and each of its CALLs as calls of a component, through the
//! runtime's one invocation runner: a CALLRESULT only once the unit of work has committed;
//! a refusal, trap, timeout or answer that breaks the schema is a CALLERROR and a rollback.

use std::sync::Arc;
use std::time::Instant;

use joule_runtime::invocation::{self, Call, Ended, GuestResult, Invocation, Verdict};
use joule_runtime::manifest::OcppTriggerConfig;
use joule_runtime::{Failure, InvocationContext, LoadedComponent, Runtime};
use joule_world::ocpp_handler::OcppHandler;
use joule_world::ocpp_handler::charge_point::{self as wit, CallError, Connection, Refusal};
use serde_json::value::RawValue;

use crate::protocol::{ErrorCode, Frame, Initiator, MessageId, Protocol, Validator};
use crate::session::Session;

/// Why a charge point may not connect.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("{0}")]
    Credentials(&'static str),
    #[error("the component deciding who connects could not answer: {0}")]
    Unavailable(String),
}


/// Asks `component` whether the charge point may connect with `password`.
pub async fn connect(component: Arc<LoadedComponent>, session: &Session, password: String) -> Result<(), Refused> {
    let connection = Connection {
        charge_point_id: session.charge_point_id.clone(),
        protocol: session.protocol.subprotocol().to_string(),
        password,
    };
    let call = Call { component: &component, trigger: "ocpp", span_kind: "server", context: context(session), delivery: None };
    let guest = Arc::clone(&component);
    let verdict = |answer: Result<(), Refusal>| async move {
        match answer {
            Ok(()) => Verdict { reply: Ok(()), commit: true, outcome: "connected" },
            Err(refusal) => Verdict { reply: Err(refusal), commit: false, outcome: "refused" },
        }
    };
    let ended = invocation::run(call, move |invocation| Box::pin(call_connect(guest, invocation, connection)), verdict).await.0;
    match ended {
        Ended::Replied { reply: Ok(()), committed: Ok(()) } => Ok(()),
        Ended::Replied { reply: Err(Refusal::UnknownChargePoint), .. } => Err(Refused::Credentials("unknown charge point")),
        Ended::Replied { reply: Err(Refusal::WrongPassword), .. } => Err(Refused::Credentials("wrong password")),
        Ended::Replied { committed: Err(e), .. } => Err(Refused::Unavailable(format!("its changes could not be saved: {e}"))),
        Ended::Overloaded(overloaded) => Err(Refused::Unavailable(overloaded.to_string())),
        Ended::Failed(failure) => Err(Refused::Unavailable(failure.public_message().to_string())),
        Ended::Duplicate | Ended::InboxFailed(_) => unreachable!("a connection delivers no event"),
    }
}

/// Whether a connection began or ended, as the host's event says it.
#[derive(Debug, Clone, Copy)]
pub enum Announcement {
    Connected,
    Disconnected,
}

impl Announcement {
    fn event_type(self) -> &'static str {
        match self {
            Self::Connected => OcppTriggerConfig::CONNECTED_EVENT,
            Self::Disconnected => OcppTriggerConfig::DISCONNECTED_EVENT,
        }
    }

    fn time_key(self) -> &'static str {
        match self {
            Self::Connected => "connectedAt",
            Self::Disconnected => "disconnectedAt",
        }
    }
}

/// Publishes `charge-point.connected.v1` or `.disconnected.v1` through the route
/// component's outbox, in a unit of work of its own that runs no guest code and only
/// writes (so on the embedded database no other commit can overtake it). A failure is
/// logged: the connection itself is not the event's to refuse or keep.
pub async fn announce(runtime: &Runtime, session: &Session, announcement: Announcement) {
    let Some(component) = runtime.component(&session.trigger.component) else { return };
    let call = Call { component: &component, trigger: "ocpp", span_kind: "internal", context: context(session), delivery: None };
    let (event_type, event) = (announcement.event_type(), connection_event(session, announcement.time_key()));
    let verdict = |published: Result<(), String>| async move {
        let commit = published.is_ok();
        Verdict { reply: published, commit, outcome: if commit { "announced" } else { "publish_failed" } }
    };
    let ended = invocation::run(call, move |invocation| Box::pin(publish(invocation, event_type, event)), verdict).await.0;
    let failed = match ended {
        Ended::Replied { reply: Ok(()), committed: Ok(()) } => return,
        Ended::Replied { reply: Err(e), .. } => e,
        Ended::Replied { committed: Err(e), .. } => e.to_string(),
        Ended::Overloaded(overloaded) => overloaded.to_string(),
        Ended::Failed(failure) => failure.to_string(),
        Ended::Duplicate | Ended::InboxFailed(_) => unreachable!("an announcement delivers no event"),
    };
    tracing::warn!(charge_point = %session.charge_point_id, error = %failed, "{event_type} could not be published");
}

async fn publish(invocation: &mut Invocation, event_type: &'static str, event: serde_json::Value) -> GuestResult<Result<(), String>> {
    Ok(invocation.publish_host_event(event_type, event).await.map_err(|e| e.to_string()))
}

/// What the host's connection events carry; `connectionId`s are time-ordered, so a consumer
/// can tell an old connection's end from a new one's start that overtook it.
fn connection_event(session: &Session, at_key: &str) -> serde_json::Value {
    serde_json::json!({
        "chargePointId": session.charge_point_id,
        "protocol": session.protocol.subprotocol(),
        "connectionId": session.connection_id,
        at_key: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

/// Invocations on a charge point's behalf: it is the caller and the actor.
fn context(session: &Session) -> InvocationContext {
    InvocationContext {
        correlation_id: Some(uuid::Uuid::new_v4().to_string()),
        traceparent: None,
        caller: Some(session.caller.clone()),
        actor: Some(session.charge_point_id.clone()),
    }
}

/// Runs one CALL of the session's charge point and returns its answer.
pub async fn handle(
    runtime: &Runtime,
    validator: &Validator,
    session: &Session,
    message_id: MessageId,
    action: String,
    payload: Box<RawValue>,
) -> Frame {
    let protocol = session.protocol;
    let internal = |message_id: MessageId, description: &str| {
        Frame::call_error(protocol, message_id, ErrorCode::InternalError, description, None)
    };
    let component_id = session.trigger.component_for(&action);
    let Some(component) = runtime.component(component_id) else {
        return internal(message_id, &format!("the component handling {action} is not loaded"));
    };
    let context = context(session);
    let request = wit::Request {
        charge_point_id: session.charge_point_id.clone(),
        protocol: protocol.subprotocol().to_string(),
        action: action.clone(),
        message_id: message_id.as_str().to_string(),
        payload: payload.get().to_string(),
    };
    let call = Call { component: &component, trigger: "ocpp", span_kind: "server", context, delivery: None };
    let guest = Arc::clone(&component);
    let id = message_id.clone();
    let verdict = |answer: Result<String, CallError>| async move {
        match answer.map(|payload| checked_result(validator, protocol, &action, payload)) {
            Ok(Ok(payload)) => Verdict { reply: Frame::CallResult { message_id: id, payload }, commit: true, outcome: "success" },
            Ok(Err(problem)) => {
                tracing::warn!(action = %action, problem = %problem, "the component's answer breaks the OCPP schema");
                let description = format!("the answer to {action} was not valid: {problem}");
                Verdict { reply: internal(id, &description), commit: false, outcome: "invalid_answer" }
            }
            Err(error) => {
                let details = error.details.as_deref().and_then(|d| serde_json::from_str(d).ok());
                let frame = Frame::call_error(protocol, id, error_code(error.code), &error.description, details);
                Verdict { reply: frame, commit: false, outcome: "call_error" }
            }
        }
    };
    let ended = invocation::run(call, move |invocation| Box::pin(call_handle(guest, invocation, request)), verdict).await.0;
    match ended {
        Ended::Replied { reply, committed: Ok(()) } => reply,
        Ended::Replied { committed: Err(e), .. } => internal(message_id, &format!("the changes could not be saved: {e}")),
        Ended::Overloaded(_) | Ended::Failed(Failure::Overloaded) => {
            internal(message_id, "the component is at its concurrency limit; send the message again later")
        }
        Ended::Failed(failure) => internal(message_id, failure.public_message()),
        Ended::Duplicate | Ended::InboxFailed(_) => unreachable!("a CALL delivers no event"),
    }
}

/// The component's answer as a CALLRESULT payload, if it is JSON valid against the action's
/// response schema: a charge point must never see an answer its version cannot read.
fn checked_result(validator: &Validator, protocol: Protocol, action: &str, payload: String) -> Result<Box<RawValue>, String> {
    let payload = RawValue::from_string(payload).map_err(|e| format!("not JSON: {e}"))?;
    validator.response(protocol, Initiator::ChargePoint, action, &payload).map_err(|e| e.to_string())?;
    Ok(payload)
}

async fn call_connect(
    component: Arc<LoadedComponent>,
    invocation: &mut Invocation,
    connection: Connection,
) -> GuestResult<Result<(), Refusal>> {
    let instance = instance(&component, invocation).await?;
    instance.joule_platform_charge_point().call_connect(invocation.store(), &connection).await
}

async fn call_handle(
    component: Arc<LoadedComponent>,
    invocation: &mut Invocation,
    request: wit::Request,
) -> GuestResult<Result<String, CallError>> {
    let instance = instance(&component, invocation).await?;
    instance.joule_platform_charge_point().call_handle(invocation.store(), &request).await
}

async fn instance(component: &LoadedComponent, invocation: &mut Invocation) -> GuestResult<OcppHandler> {
    let handler = component.ocpp_handler().expect("the manifest's OCPP components export the handler").clone();
    let instantiating = Instant::now();
    let instance = handler.instantiate_async(invocation.store()).await?;
    component.metrics().instantiation(&component.id, "ocpp", instantiating.elapsed());
    Ok(instance)
}

fn error_code(code: wit::ErrorCode) -> ErrorCode {
    match code {
        wit::ErrorCode::NotImplemented => ErrorCode::NotImplemented,
        wit::ErrorCode::NotSupported => ErrorCode::NotSupported,
        wit::ErrorCode::InternalError => ErrorCode::InternalError,
        wit::ErrorCode::ProtocolError => ErrorCode::ProtocolError,
        wit::ErrorCode::SecurityError => ErrorCode::SecurityError,
        wit::ErrorCode::FormatViolation => ErrorCode::FormatViolation,
        wit::ErrorCode::PropertyConstraintViolation => ErrorCode::PropertyConstraintViolation,
        wit::ErrorCode::OccurrenceConstraintViolation => ErrorCode::OccurrenceConstraintViolation,
        wit::ErrorCode::TypeConstraintViolation => ErrorCode::TypeConstraintViolation,
        wit::ErrorCode::GenericError => ErrorCode::GenericError,
    }
}
