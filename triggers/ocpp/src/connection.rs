//! One charge point's WebSocket: frames in, one CALL handled at a time, answers out, the
//! platform's own CALLs out one at a time with their answers paired back, pings to find a
//! dead peer, and an idle timeout to let it go.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::{SinkExt as _, StreamExt as _};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;

use crate::Shared;
use crate::calls::{CallQueue, Outcome, Outgoing};
use crate::invoke;
use crate::protocol::{ErrorCode, Frame, InboundCall, Initiator, MessageId, Pairing};
use crate::session::Session;

pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

type Answering = Pin<Box<dyn Future<Output = Frame> + Send>>;

/// The platform's CALL awaiting the charge point's answer.
struct Sending {
    request_id: String,
    sent: tokio::sync::oneshot::Sender<Outcome>,
    until: Instant,
}

/// What a text message from the charge point calls for.
enum Received {
    Nothing,
    /// An answer to send now.
    Reply(Frame),
    /// A CALL to start handling.
    Handle(Answering),
    /// The answer to the platform's outstanding CALL, and how that call ended.
    Answered(Outcome),
}

/// Why the connection ends, for the log and the close frame.
enum Ending {
    PeerClosed,
    Broken(String),
    Idle,
    Replaced,
    ShuttingDown,
    BinaryMessage,
}

/// Serves `session` on `socket` until the charge point leaves, goes quiet, is replaced by a
/// newer connection, or the host shuts down (after the CALL in hand is answered).
pub async fn serve(shared: Arc<Shared>, session: Arc<Session>, mut socket: Socket, replaced: CancellationToken, mut calls: CallQueue) {
    let settings = &shared.settings;
    let mut pairing = Pairing::default();
    let mut answering: Option<Answering> = None;
    let mut sending: Option<Sending> = None;
    // Closed only once the connection is replaced or forgotten; then nothing more is queued.
    let mut calls_open = true;
    let mut pings = tokio::time::interval_at(Instant::now() + settings.ping_interval, settings.ping_interval);
    let mut heard = Instant::now();
    let ending = loop {
        let quiet_until = heard + settings.idle_timeout;
        tokio::select! {
            answer = async { answering.as_mut().expect("guarded").await }, if answering.is_some() => {
                answering = None;
                if let Err(e) = pairing.answered(&answer) {
                    tracing::warn!(error = %e, "an answer matched no CALL in hand");
                }
                if let Err(e) = socket.send(Message::text(answer.to_text())).await {
                    break Ending::Broken(e.to_string());
                }
            }
            message = socket.next() => {
                heard = Instant::now();
                let text = match message {
                    None => break Ending::PeerClosed,
                    Some(Err(e)) => break Ending::Broken(e.to_string()),
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => break Ending::BinaryMessage,
                    // Pongs to pings are queued by tungstenite; a close is answered by it too,
                    // and the stream then ends.
                    Some(Ok(_)) => continue,
                };
                match receive(&shared, &session, &mut pairing, text.as_str()) {
                    Received::Nothing => {}
                    Received::Reply(reply) => {
                        if let Err(e) = socket.send(Message::text(reply.to_text())).await {
                            break Ending::Broken(e.to_string());
                        }
                    }
                    Received::Handle(call) => answering = answering.or(Some(call)),
                    Received::Answered(outcome) => {
                        if let Some(sending) = sending.take() {
                            let _ = sending.sent.send(outcome);
                        }
                    }
                }
            }
            outgoing = calls.recv(), if calls_open && sending.is_none() && !replaced.is_cancelled() => {
                let Some(outgoing) = outgoing else {
                    calls_open = false;
                    continue;
                };
                let Some((frame, started)) = start_call(&shared, &session, &mut pairing, outgoing) else { continue };
                // Recorded first, so that a replica dying now cannot have it sent twice: a call
                // sent before (by a replica that died waiting for the answer) is not sent again.
                // Left unsent (its router routes it again) if that cannot be recorded.
                match shared.router.first_send(&started.request_id).await {
                    Ok(true) => {}
                    Ok(false) => {
                        pairing.abandon_call();
                        let why = "it was sent before, by a replica that stopped before the charge point's answer was recorded";
                        let _ = started.sent.send(Outcome::Failed(why.into()));
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(charge_point = %session.charge_point_id, error = %format!("{e:#}"), "could not record a call as sent; it goes back");
                        pairing.abandon_call();
                        continue;
                    }
                }
                if let Err(e) = socket.send(Message::text(frame.to_text())).await {
                    let _ = started.sent.send(Outcome::Failed(format!("the connection broke while sending it: {e}")));
                    break Ending::Broken(e.to_string());
                }
                sending = Some(started);
            }
            () = async { tokio::time::sleep_until(sending.as_ref().expect("guarded").until).await }, if sending.is_some() => {
                pairing.abandon_call();
                if let Some(sending) = sending.take() {
                    let _ = sending.sent.send(Outcome::Timeout);
                }
            }
            _ = pings.tick() => {
                if let Err(e) = socket.send(Message::Ping(Default::default())).await {
                    break Ending::Broken(e.to_string());
                }
            }
            () = tokio::time::sleep_until(quiet_until) => break Ending::Idle,
            () = replaced.cancelled(), if answering.is_none() => {
                break if shared.stopping.is_cancelled() { Ending::ShuttingDown } else { Ending::Replaced };
            }
        }
    };
    if let Some(sending) = sending.take() {
        let _ = sending.sent.send(Outcome::Failed("the connection closed before the charge point answered".into()));
    }
    // Calls still queued are dropped unsent: their routers route them again.
    calls.close();
    drop(calls);
    close(&session, socket, ending).await;
}

/// Checks a call against the connection's OCPP version and makes its CALL; a call its
/// version has no such action for, or whose payload breaks the schema, ends here.
fn start_call(shared: &Shared, session: &Session, pairing: &mut Pairing, outgoing: Outgoing) -> Option<(Frame, Sending)> {
    let Outgoing { call, sent } = outgoing;
    let protocol = session.protocol;
    let checked = serde_json::value::to_raw_value(&call.payload).map_err(|e| e.to_string()).and_then(|payload| {
        shared.validator.request(protocol, Initiator::Csms, &call.action, &payload).map(|()| payload).map_err(|e| e.to_string())
    });
    let payload = match checked {
        Ok(payload) => payload,
        Err(problem) => {
            let _ = sent.send(Outcome::Invalid(format!("{} {}: {problem}", protocol.subprotocol(), call.action)));
            return None;
        }
    };
    let message_id = MessageId::new(uuid::Uuid::new_v4().to_string()).expect("a UUID is a valid message id");
    if let Err(e) = pairing.send_call(message_id.clone(), &call.action) {
        let _ = sent.send(Outcome::Failed(e.to_string()));
        return None;
    }
    let until = Instant::now() + shared.settings.call_timeout;
    Some((Frame::Call { message_id, action: call.action, payload }, Sending { request_id: call.request_id, sent, until }))
}

/// How the platform's outstanding CALL ended, given the charge point's answer to it.
fn answered(shared: &Shared, session: &Session, action: &str, answer: Frame) -> Outcome {
    match answer {
        Frame::CallResult { payload, .. } => match shared.validator.response(session.protocol, Initiator::Csms, action, &payload) {
            Ok(()) => Outcome::Answered(payload),
            Err(problem) => Outcome::CallError {
                code: ErrorCode::FormatViolation.wire_name(session.protocol).to_string(),
                description: format!("the charge point's answer to {action} breaks its schema: {problem}"),
                details: serde_json::from_str(payload.get()).unwrap_or_default(),
            },
        },
        Frame::CallError { code, description, details, .. } => {
            Outcome::CallError { code, description, details: serde_json::from_str(details.get()).unwrap_or_default() }
        }
        Frame::Call { .. } => unreachable!("only answers are paired"),
    }
}

/// What to do with a text message.
fn receive(shared: &Arc<Shared>, session: &Arc<Session>, pairing: &mut Pairing, text: &str) -> Received {
    let protocol = session.protocol;
    let metrics = shared.runtime.metrics();
    let frame = match Frame::parse(text) {
        Ok(frame) => frame,
        Err(e) => {
            tracing::debug!(charge_point = %session.charge_point_id, error = %e, "an unreadable message");
            metrics.ocpp_message("unreadable", "refused", None);
            return e.reply(protocol).map_or(Received::Nothing, Received::Reply);
        }
    };
    let Frame::Call { message_id, action, payload } = frame else {
        // An answer to no outstanding CALL (late, after its timeout) is dropped, as OCPP-J says.
        return match pairing.receive_answer(frame.message_id()) {
            Some(outstanding) => Received::Answered(answered(shared, session, &outstanding.action, frame)),
            None => {
                tracing::debug!(charge_point = %session.charge_point_id, id = %frame.message_id(), "an answer to no CALL");
                Received::Nothing
            }
        };
    };
    // Metrics name only real actions: a charge point could make up any number of others.
    let label = |action: &str| {
        if shared.validator.is_call_from(protocol, Initiator::ChargePoint, action) { action.to_string() } else { "unknown".into() }
    };
    match pairing.receive_call(protocol, &message_id, &action, &payload) {
        InboundCall::Handle => {}
        InboundCall::Replay(answer) => {
            metrics.ocpp_message(&label(&action), "replayed", None);
            return Received::Reply(answer);
        }
        InboundCall::AlreadyHandling => return Received::Nothing,
        InboundCall::Refuse(refusal) => {
            metrics.ocpp_message(&label(&action), "refused", None);
            return Received::Reply(refusal);
        }
    }
    if let Err(problem) = shared.validator.request(protocol, Initiator::ChargePoint, &action, &payload) {
        metrics.ocpp_message(&label(&action), "refused", None);
        let refusal = problem.to_call_error(protocol, message_id);
        if let Err(e) = pairing.answered(&refusal) {
            tracing::warn!(error = %e, "a refusal matched no CALL in hand");
        }
        return Received::Reply(refusal);
    }
    let (shared, session) = (shared.clone(), session.clone());
    let received = Instant::now();
    let handling = async move {
        let span = tracing::info_span!(
            "ocpp.call",
            charge_point = %session.charge_point_id,
            protocol = session.protocol.subprotocol(),
            action = %action,
            message_id = %message_id,
        );
        let answer = invoke::handle(&shared.runtime, &shared.validator, &session, message_id, action.clone(), payload);
        let answer = tracing::Instrument::instrument(answer, span).await;
        let outcome = if matches!(answer, Frame::CallResult { .. }) { "result" } else { "call_error" };
        shared.runtime.metrics().ocpp_message(&action, outcome, Some(received.elapsed()));
        answer
    };
    Received::Handle(Box::pin(handling))
}

async fn close(session: &Session, mut socket: Socket, ending: Ending) {
    let (code, reason) = match &ending {
        Ending::PeerClosed | Ending::Broken(_) => {
            if let Ending::Broken(e) = &ending {
                tracing::debug!(charge_point = %session.charge_point_id, error = %e, "the connection broke");
            }
            tracing::info!(charge_point = %session.charge_point_id, "charge point disconnected");
            return;
        }
        Ending::Idle => (CloseCode::Away, "nothing heard within the idle timeout"),
        Ending::Replaced => (CloseCode::Policy, "replaced by a newer connection of this charge point"),
        Ending::ShuttingDown => (CloseCode::Restart, "the server is restarting"),
        Ending::BinaryMessage => (CloseCode::Unsupported, "OCPP-J messages are text"),
    };
    tracing::info!(charge_point = %session.charge_point_id, reason, "closing the charge point's connection");
    let frame = CloseFrame { code, reason: reason.into() };
    // The peer's close answer is awaited briefly; a peer that never answers is cut off.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let _ = socket.close(Some(frame)).await;
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}
