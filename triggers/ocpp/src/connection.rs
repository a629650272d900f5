//! One charge point's WebSocket: frames in, one CALL handled at a time, answers out, pings
//! to find a dead peer, and an idle timeout to let it go.

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
use crate::invoke;
use crate::protocol::{Frame, InboundCall, Initiator, Pairing};
use crate::session::Session;

pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

type Answering = Pin<Box<dyn Future<Output = Frame> + Send>>;

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
pub async fn serve(shared: Arc<Shared>, session: Arc<Session>, mut socket: Socket, replaced: CancellationToken) {
    let settings = &shared.settings;
    let mut pairing = Pairing::default();
    let mut answering: Option<Answering> = None;
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
                let (reply, call) = receive(&shared, &session, &mut pairing, text.as_str());
                answering = answering.or(call);
                if let Some(reply) = reply
                    && let Err(e) = socket.send(Message::text(reply.to_text())).await
                {
                    break Ending::Broken(e.to_string());
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
    close(&session, socket, ending).await;
}

/// What to do with a text message: an answer to send now, and a CALL to start handling.
fn receive(shared: &Arc<Shared>, session: &Arc<Session>, pairing: &mut Pairing, text: &str) -> (Option<Frame>, Option<Answering>) {
    let protocol = session.protocol;
    let metrics = shared.runtime.metrics();
    let frame = match Frame::parse(text) {
        Ok(frame) => frame,
        Err(e) => {
            tracing::debug!(charge_point = %session.charge_point_id, error = %e, "an unreadable message");
            metrics.ocpp_message("unreadable", "refused", None);
            return (e.reply(protocol), None);
        }
    };
    let Frame::Call { message_id, action, payload } = frame else {
        // Joule sends no CALLs yet, so any answer is to nothing and is dropped, as OCPP-J says.
        if pairing.receive_answer(frame.message_id()).is_none() {
            tracing::debug!(charge_point = %session.charge_point_id, id = %frame.message_id(), "an answer to no CALL");
        }
        return (None, None);
    };
    // Metrics name only real actions: a charge point could make up any number of others.
    let label = |action: &str| {
        if shared.validator.is_call_from(protocol, Initiator::ChargePoint, action) { action.to_string() } else { "unknown".into() }
    };
    match pairing.receive_call(protocol, &message_id, &action, &payload) {
        InboundCall::Handle => {}
        InboundCall::Replay(answer) => {
            metrics.ocpp_message(&label(&action), "replayed", None);
            return (Some(answer), None);
        }
        InboundCall::AlreadyHandling => return (None, None),
        InboundCall::Refuse(refusal) => {
            metrics.ocpp_message(&label(&action), "refused", None);
            return (Some(refusal), None);
        }
    }
    if let Err(problem) = shared.validator.request(protocol, Initiator::ChargePoint, &action, &payload) {
        metrics.ocpp_message(&label(&action), "refused", None);
        let refusal = problem.to_call_error(protocol, message_id);
        if let Err(e) = pairing.answered(&refusal) {
            tracing::warn!(error = %e, "a refusal matched no CALL in hand");
        }
        return (Some(refusal), None);
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
    (None, Some(Box::pin(handling)))
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
