//! The CloudEvents 1.0 envelope, in JSON structured mode, with Joule's three extensions:
//! `correlationid`, `traceparent` and `actor`.

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

pub const SPEC_VERSION: &str = "1.0";
pub const CONTENT_TYPE: &str = "application/json";
/// The media type of a whole envelope on the wire.
pub const ENVELOPE_CONTENT_TYPE: &str = "application/cloudevents+json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub specversion: String,
    pub id: String,
    /// The component that published the event.
    pub source: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub datacontenttype: String,
    pub data: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlationid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The subject on whose behalf the event was published: the verified caller of the
    /// request, or the actor of the event its handler was handling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

impl Envelope {
    /// A new event published now.
    pub fn new(
        id: String,
        source: &str,
        event_type: &str,
        data: serde_json::Value,
        correlation_id: Option<String>,
        traceparent: Option<String>,
    ) -> Self {
        Self {
            specversion: SPEC_VERSION.into(),
            id,
            source: source.into(),
            event_type: event_type.into(),
            time: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
            datacontenttype: CONTENT_TYPE.into(),
            data,
            correlationid: correlation_id,
            traceparent,
            actor: None,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an envelope always serialises")
    }

    /// Reads an envelope from the wire, checking what CloudEvents requires.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let envelope: Self = serde_json::from_slice(bytes).map_err(|e| format!("not a CloudEvents JSON envelope: {e}"))?;
        if envelope.specversion != SPEC_VERSION {
            return Err(format!("specversion {:?} is not {SPEC_VERSION}", envelope.specversion));
        }
        if envelope.id.is_empty() || envelope.source.is_empty() || envelope.event_type.is_empty() {
            return Err("id, source and type must not be empty".into());
        }
        Ok(envelope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_the_cloudevents_field_names() {
        let event = Envelope::new(
            "e-1".into(),
            "stations",
            "station.created.v1",
            serde_json::json!({ "id": "s-1" }),
            Some("c-1".into()),
            None,
        );
        let json: serde_json::Value = serde_json::from_slice(&event.to_bytes()).unwrap();
        assert_eq!(json["specversion"], "1.0");
        assert_eq!(json["type"], "station.created.v1");
        assert_eq!(json["datacontenttype"], "application/json");
        assert_eq!(json["correlationid"], "c-1");
        assert!(json.get("traceparent").is_none());
        assert!(json.get("actor").is_none());
        assert_eq!(Envelope::parse(&event.to_bytes()).unwrap(), event);
        let acted = Envelope { actor: Some("driver-1".into()), ..event };
        let json: serde_json::Value = serde_json::from_slice(&acted.to_bytes()).unwrap();
        assert_eq!(json["actor"], "driver-1");
        assert_eq!(Envelope::parse(&acted.to_bytes()).unwrap(), acted);
    }

    #[test]
    fn refuses_what_is_not_an_envelope() {
        assert!(Envelope::parse(b"{}").is_err());
        assert!(Envelope::parse(b"not json").is_err());
        let mut event = Envelope::new("e".into(), "s", "t.v1", serde_json::Value::Null, None, None);
        event.specversion = "0.3".into();
        assert!(Envelope::parse(&event.to_bytes()).unwrap_err().contains("0.3"));
    }
}
