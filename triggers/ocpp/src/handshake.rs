//! A charge point's opening request (RFC 6455 §4.2; OCPP-J 1.6 §3, 2.0.1 Part 4 §3): the
//! path names the charge point, the subprotocol its OCPP version, and HTTP Basic carries its
//! password (security profile 1). Everything here is checked before a component runs.

use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use joule_http_server::{Body, response};
use percent_encoding::percent_decode_str;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::protocol::Protocol;

/// OCPP 2.0.1 caps a charging station's identity at 48 characters (Part 4 §3.1.1); 1.6
/// names no limit, and the same one keeps ids usable as keys.
pub const MAX_CHARGE_POINT_ID_CHARS: usize = 48;

/// What a charge point offers when it connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub charge_point_id: String,
    pub protocol: Protocol,
    pub password: String,
    /// `Sec-WebSocket-Accept` for the 101 answer.
    pub accept: String,
}

impl Offer {
    /// The `101 Switching Protocols` answer that takes the connection over.
    pub fn switching(&self) -> Response<Body> {
        let mut answer = Response::new(Body::default());
        *answer.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = answer.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(self.protocol.subprotocol()));
        if let Ok(accept) = HeaderValue::from_str(&self.accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        answer
    }
}

/// Reads the offer of a request for `{prefix}/{id}`, or answers why it is refused.
pub fn read<B>(prefix: &str, request: &Request<B>) -> Result<Offer, Response<Body>> {
    let charge_point_id = charge_point_id(prefix, request.uri().path())?;
    let headers = request.headers();
    let upgrade = request.method() == Method::GET
        && has_token(headers, header::CONNECTION, "upgrade")
        && has_token(headers, header::UPGRADE, "websocket");
    if !upgrade {
        let mut answer = response::error(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            "charge points connect here with a WebSocket (GET with Upgrade: websocket), subprotocol ocpp1.6 or ocpp2.0.1",
        );
        answer.headers_mut().insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        return Err(answer);
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).and_then(|v| v.to_str().ok()) != Some("13") {
        let mut answer =
            response::error(StatusCode::UPGRADE_REQUIRED, "unsupported_websocket_version", "Sec-WebSocket-Version must be 13");
        answer.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return Err(answer);
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return Err(response::error(StatusCode::BAD_REQUEST, "bad_request", "Sec-WebSocket-Key is missing"));
    };
    let offered: Vec<&str> =
        headers.get_all(header::SEC_WEBSOCKET_PROTOCOL).iter().filter_map(|v| v.to_str().ok()).collect();
    let Some(protocol) = Protocol::negotiate(offered.iter().copied()) else {
        let offered = if offered.is_empty() { "none".to_string() } else { offered.join(", ") };
        return Err(response::error(
            StatusCode::BAD_REQUEST,
            "unsupported_subprotocol",
            format!("the WebSocket subprotocol must be ocpp1.6 or ocpp2.0.1; offered: {offered}"),
        ));
    };
    let password = basic_password(headers, &charge_point_id)?;
    Ok(Offer { charge_point_id, protocol, password, accept: derive_accept_key(key.as_bytes()) })
}

/// The 401 a charge point gets for a missing, malformed or refused password.
pub fn unauthorized(message: &str) -> Response<Body> {
    let mut answer = response::error(StatusCode::UNAUTHORIZED, "unauthorized", message);
    answer.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"OCPP\", charset=\"UTF-8\""));
    answer
}

/// The id is the one segment after the prefix, percent-decoded.
fn charge_point_id(prefix: &str, path: &str) -> Result<String, Response<Body>> {
    let not_found = || response::error(StatusCode::NOT_FOUND, "not_found", format!("charge points connect on {prefix}/{{chargePointId}}"));
    let segment = path.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('/')).ok_or_else(not_found)?;
    if segment.is_empty() || segment.contains('/') {
        return Err(not_found());
    }
    let invalid = |why: &str| {
        response::error(StatusCode::BAD_REQUEST, "invalid_charge_point_id", format!("the charge point id in {path:?} {why}"))
    };
    let id = percent_decode_str(segment).decode_utf8().map_err(|_| invalid("is not UTF-8"))?;
    if id.chars().count() > MAX_CHARGE_POINT_ID_CHARS {
        return Err(invalid(&format!("is longer than {MAX_CHARGE_POINT_ID_CHARS} characters")));
    }
    // A colon could not be a Basic user name; control characters and spaces are never ids.
    if id.chars().any(|c| c.is_control() || c.is_whitespace() || c == ':') {
        return Err(invalid("has a space, a colon or a control character"));
    }
    Ok(id.into_owned())
}

/// The password of `Authorization: Basic`, whose user must be the charge point's id.
fn basic_password(headers: &HeaderMap, charge_point_id: &str) -> Result<String, Response<Body>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized("this charge point must authenticate with HTTP Basic: its id and its password"));
    };
    let credentials = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok());
    let Some((user, password)) = credentials.as_deref().and_then(|c| c.split_once(':')) else {
        return Err(unauthorized("the Authorization header must be HTTP Basic with the charge point's id and password"));
    };
    if user != charge_point_id {
        return Err(unauthorized("the HTTP Basic user must be the charge point id the path names"));
    }
    Ok(password.to_string())
}

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::get(path)
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    fn basic(user_password: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password))
    }

    #[test]
    fn an_offer_names_the_charge_point_its_version_and_password() {
        let auth = basic("CP-1:pa:ss");
        let offer = read("/ocpp", &request("/ocpp/CP-1", &[("sec-websocket-protocol", "ocpp2.0.1, ocpp1.6"), ("authorization", &auth)]))
            .unwrap();
        assert_eq!(offer.charge_point_id, "CP-1");
        assert_eq!(offer.protocol, Protocol::V201);
        assert_eq!(offer.password, "pa:ss");
        // RFC 6455's own example key and answer.
        assert_eq!(offer.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(offer.switching().headers()["sec-websocket-protocol"], "ocpp2.0.1");
    }

    #[test]
    fn refusals_say_why() {
        let auth = basic("CP-1:secret");
        let status = |path: &str, headers: &[(&str, &str)]| read("/ocpp", &request(path, headers)).unwrap_err().status();
        let ocpp16 = ("sec-websocket-protocol", "ocpp1.6");
        assert_eq!(status("/ocpp/CP-1", &[("sec-websocket-protocol", "ocpp2.1"), ("authorization", &auth)]), 400);
        assert_eq!(status("/ocpp/CP-1", &[("authorization", &auth)]), 400);
        assert_eq!(status("/ocpp/CP-1", &[ocpp16]), 401);
        assert_eq!(status("/ocpp/CP-2", &[ocpp16, ("authorization", &auth)]), 401);
        assert_eq!(status("/ocpp/CP-1", &[ocpp16, ("authorization", "Bearer x")]), 401);
        assert_eq!(status("/ocpp/", &[ocpp16, ("authorization", &auth)]), 404);
        assert_eq!(status("/ocpp/a/b", &[ocpp16, ("authorization", &auth)]), 404);
        assert_eq!(status(&format!("/ocpp/{}", "x".repeat(49)), &[ocpp16]), 400);
        assert_eq!(status("/ocpp/a%3Ab", &[ocpp16]), 400);
        let plain = Request::get("/ocpp/CP-1").body(()).unwrap();
        assert_eq!(read("/ocpp", &plain).unwrap_err().status(), 426);
    }

    #[test]
    fn a_percent_encoded_id_is_decoded() {
        let auth = basic("CP 1:secret");
        let offer = read("/ocpp", &request("/ocpp/CP%201", &[("sec-websocket-protocol", "ocpp1.6"), ("authorization", &auth)]));
        // A space is never part of an id.
        assert_eq!(offer.unwrap_err().status(), 400);
        let auth = basic("CPé:secret");
        let offer = read("/ocpp", &request("/ocpp/CP%C3%A9", &[("sec-websocket-protocol", "ocpp1.6"), ("authorization", &auth)]))
            .unwrap();
        assert_eq!(offer.charge_point_id, "CPé");
    }
}
