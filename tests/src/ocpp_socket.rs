//! A charge point at the level of OCPP-J frames, for what a well-behaved one never sends:
//! broken frames, schema violations, a second CALL before the first is answered. Flows of
//! well-formed messages use a real charge point instead (`charge_point`).

use std::time::Duration;

use base64::Engine as _;
use futures::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct OcppSocket {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The subprotocol the server chose.
    pub protocol: String,
}

/// How to open the connection; `None` leaves a header out.
pub struct Dial<'a> {
    pub id: &'a str,
    pub password: Option<&'a str>,
    pub subprotocols: &'a [&'a str],
}

impl OcppSocket {
    /// Connects to `{base_url}/ocpp/{id}`; a refused handshake is its HTTP status and body.
    pub async fn connect(base_url: &str, dial: Dial<'_>) -> Result<OcppSocket, (u16, Value)> {
        Self::connect_at(base_url, "/ocpp", dial).await
    }

    /// Connects to `{base_url}{route}/{id}`.
    pub async fn connect_at(base_url: &str, route: &str, dial: Dial<'_>) -> Result<OcppSocket, (u16, Value)> {
        let url = format!("{}{route}/{}", base_url.replacen("http://", "ws://", 1), dial.id);
        let mut request = url.as_str().into_client_request().expect("a WebSocket URL");
        let headers = request.headers_mut();
        if !dial.subprotocols.is_empty() {
            headers.insert("sec-websocket-protocol", dial.subprotocols.join(", ").parse().unwrap());
        }
        if let Some(password) = dial.password {
            let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", dial.id));
            headers.insert("authorization", format!("Basic {credentials}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, response)) => {
                let protocol = response.headers().get("sec-websocket-protocol").map(|v| v.to_str().unwrap().to_string());
                Ok(OcppSocket { socket, protocol: protocol.unwrap_or_default() })
            }
            Err(Error::Http(response)) => {
                let body = response.body().as_deref().map(|b| serde_json::from_slice(b).unwrap_or(Value::Null));
                Err((response.status().as_u16(), body.unwrap_or(Value::Null)))
            }
            Err(e) => panic!("connecting to {url} failed: {e}"),
        }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.expect("send a message");
    }

    /// Sends a CALL and waits for the frame answering it.
    pub async fn call(&mut self, message_id: &str, action: &str, payload: Value) -> Value {
        self.send_text(&serde_json::json!([2, message_id, action, payload]).to_string()).await;
        self.answer_to(message_id).await
    }

    /// The next frame answering `message_id`, skipping others.
    pub async fn answer_to(&mut self, message_id: &str) -> Value {
        loop {
            let frame = self.next_frame().await.unwrap_or_else(|| panic!("the connection closed before {message_id} was answered"));
            if frame[1] == message_id {
                return frame;
            }
        }
    }

    /// The next OCPP-J frame, or `None` once the server closed the connection.
    pub async fn next_frame(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(15), self.socket.next())
                .await
                .expect("the server answered within 15 s");
            match message {
                Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(text.as_str()).expect("frames are JSON")),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Reads for `duration`, as a quiet but live charge point does: pings get their pongs.
    pub async fn listen(&mut self, duration: Duration) {
        let _ = tokio::time::timeout(duration, async { while let Some(Ok(_)) = self.socket.next().await {} }).await;
    }

    /// Waits for the server to close the connection, and returns its close frame.
    pub async fn closed(&mut self, within: Duration) -> Option<CloseFrame> {
        tokio::time::timeout(within, async {
            loop {
                match self.socket.next().await {
                    Some(Ok(Message::Close(frame))) => return frame,
                    None | Some(Err(_)) => return None,
                    Some(Ok(_)) => continue,
                }
            }
        })
        .await
        .expect("the server closed the connection in time")
    }
}
