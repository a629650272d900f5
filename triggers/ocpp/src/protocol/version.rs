//! Which OCPP version a connection speaks, chosen once at the WebSocket handshake.
//!
//! OCPP-J names each version as a WebSocket subprotocol. The charge point offers the ones it
//! can speak in `Sec-WebSocket-Protocol`, in its order of preference (RFC 6455 §4.1), and the
//! server echoes back exactly one of them; offering none we speak means the handshake fails.

use std::fmt;

/// An OCPP version Joule speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// OCPP 1.6 over JSON (OCPP-J 1.6).
    V16,
    /// OCPP 2.0.1 (Part 4, JSON over WebSockets).
    V201,
}

impl Protocol {
    /// Every version Joule speaks.
    pub const ALL: [Protocol; 2] = [Protocol::V16, Protocol::V201];

    /// The WebSocket subprotocol name, exactly as it goes on the wire.
    pub const fn subprotocol(self) -> &'static str {
        match self {
            Protocol::V16 => "ocpp1.6",
            Protocol::V201 => "ocpp2.0.1",
        }
    }

    /// The version behind one subprotocol name. Names are compared exactly: the server must
    /// echo the client's own spelling, so accepting `OCPP1.6` and answering `ocpp1.6` would
    /// only move the failure to the client.
    pub fn from_subprotocol(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.subprotocol() == name)
    }

    /// Picks the version to speak from the values of the `Sec-WebSocket-Protocol` header(s):
    /// the first one, in the client's order, that Joule speaks. Each value is a
    /// comma-separated list; the header may also be repeated, hence several values.
    pub fn negotiate<'a>(header_values: impl IntoIterator<Item = &'a str>) -> Option<Protocol> {
        header_values
            .into_iter()
            .flat_map(|value| value.split(','))
            .find_map(|offer| Protocol::from_subprotocol(offer.trim()))
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::V16 => "1.6",
            Protocol::V201 => "2.0.1",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subprotocol_names_round_trip() {
        for protocol in Protocol::ALL {
            assert_eq!(
                Protocol::from_subprotocol(protocol.subprotocol()),
                Some(protocol)
            );
        }
        assert_eq!(Protocol::V16.subprotocol(), "ocpp1.6");
        assert_eq!(Protocol::V201.subprotocol(), "ocpp2.0.1");
    }

    #[test]
    fn negotiation_follows_the_clients_order() {
        let cases: &[(&[&str], Option<Protocol>)] = &[
            (&["ocpp1.6"], Some(Protocol::V16)),
            (&["ocpp2.0.1"], Some(Protocol::V201)),
            (&["ocpp2.0.1, ocpp1.6"], Some(Protocol::V201)),
            (&["ocpp1.6,ocpp2.0.1"], Some(Protocol::V16)),
            // Versions we do not speak are skipped, wherever they stand.
            (&["ocpp2.1, ocpp2.0.1"], Some(Protocol::V201)),
            (&["ocpp2.0, ocpp1.5,ocpp1.6"], Some(Protocol::V16)),
            // A repeated header is one list, in order.
            (&["ocpp2.1", "ocpp1.6", "ocpp2.0.1"], Some(Protocol::V16)),
            // Nothing acceptable.
            (&["ocpp2.1"], None),
            (&["OCPP1.6"], None),
            (&["ocpp1.6j"], None),
            (&[""], None),
            (&[" , "], None),
            (&[], None),
        ];
        for (headers, expected) in cases {
            assert_eq!(
                Protocol::negotiate(headers.iter().copied()),
                *expected,
                "headers {headers:?}"
            );
        }
    }
}
