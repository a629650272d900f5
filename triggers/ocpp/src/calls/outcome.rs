//! What became of a call, and bringing it back to the component that made it: the
//! `ocpp.call-result.v1` event, written as a delivery to its own handler in a unit of work
//! of its own that runs no guest code.

use joule_runtime::capabilities::ocpp::{OcppCall, RESULT_EVENT};
use joule_runtime::invocation::{self, Call, Ended, GuestResult, Invocation, Verdict};
use joule_runtime::{InvocationContext, Runtime};
use joule_world::database;
use serde_json::Value;
use serde_json::value::RawValue;

/// How a call ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The charge point's CALLRESULT, valid against the action's schema.
    Answered(Box<RawValue>),
    /// Its CALLERROR, or an answer that broke the schema (`FormatViolation`).
    CallError { code: String, description: String, details: Value },
    /// No answer within the call timeout.
    Timeout,
    /// No replica holds a connection of the charge point.
    NotConnected,
    /// Its OCPP version has no such CALL, or the payload breaks the action's schema.
    Invalid(String),
    /// Whether the charge point got it is unknown: the connection or the replica sending it
    /// went away after it was handed over.
    Failed(String),
}

impl Outcome {
    fn status(&self) -> &'static str {
        match self {
            Self::Answered(_) => "result",
            Self::CallError { .. } => "call-error",
            Self::Timeout => "timeout",
            Self::NotConnected => "not-connected",
            Self::Invalid(_) => "invalid",
            Self::Failed(_) => "failed",
        }
    }

    /// The result event's data.
    pub fn event(&self, call: &OcppCall) -> Value {
        let mut event = serde_json::json!({
            "requestId": call.request_id,
            "chargePointId": call.charge_point_id,
            "action": call.action,
            "request": call.payload,
            "status": self.status(),
        });
        match self {
            Self::Answered(payload) => event["payload"] = serde_json::from_str(payload.get()).unwrap_or(Value::Null),
            Self::CallError { code, description, details } => {
                event["error"] = serde_json::json!({ "code": code, "description": description, "details": details });
            }
            Self::Invalid(why) | Self::Failed(why) => event["reason"] = Value::String(why.clone()),
            Self::Timeout | Self::NotConnected => {}
        }
        event
    }
}

/// The calling invocation's context, which the call's event carried.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub correlation_id: Option<String>,
    pub traceparent: Option<String>,
    pub actor: Option<String>,
}

/// Writes `outcome` for the caller's handler. Written twice (a redelivered call), the
/// second is refused while the first waits, and dropped by the inbox once it was handled.
pub async fn report(runtime: &Runtime, call: &OcppCall, origin: &Origin, outcome: &Outcome) -> Result<(), String> {
    let Some(component) = runtime.component(&call.component) else {
        return Err(format!("component {:?}, which made the call, is not loaded", call.component));
    };
    let context = InvocationContext {
        correlation_id: origin.correlation_id.clone(),
        traceparent: origin.traceparent.clone(),
        caller: None,
        actor: origin.actor.clone(),
    };
    let invocation_call = Call { component: &component, trigger: "ocpp", span_kind: "internal", context, delivery: None };
    let (id, data) = (call.request_id.clone(), outcome.event(call));
    let verdict = |written: Result<bool, String>| async move {
        let commit = matches!(written, Ok(true));
        Verdict { reply: written, commit, outcome: if commit { "reported" } else { "not_reported" } }
    };
    let ended = invocation::run(invocation_call, move |invocation| Box::pin(deliver(invocation, id, data)), verdict).await.0;
    match ended {
        Ended::Replied { reply: Ok(_), committed: Ok(()) } => Ok(()),
        Ended::Replied { reply: Err(e), .. } => Err(e),
        Ended::Replied { committed: Err(e), .. } => Err(e.to_string()),
        Ended::Overloaded(overloaded) => Err(overloaded.to_string()),
        Ended::Failed(failure) => Err(failure.to_string()),
        Ended::Duplicate | Ended::InboxFailed(_) => unreachable!("a report delivers no event"),
    }
}

/// Ok(false): this result was written before.
async fn deliver(invocation: &mut Invocation, id: String, data: Value) -> GuestResult<Result<bool, String>> {
    Ok(match invocation.deliver_host_event(id, RESULT_EVENT, data).await {
        Ok(()) => Ok(true),
        Err(database::Error::ConstraintViolation(_)) => Ok(false),
        Err(e) => Err(format!("{e:?}")),
    })
}
