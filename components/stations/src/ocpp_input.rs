//! Reading the OCPP parts of request bodies: a station's `ocpp` object and the body of
//! `PUT .../ocpp-password`.

use joule_sdk::api::{ApiError, Problems, Reader};
use joule_sdk::ocpp::{OCPP16, OCPP201};
use serde_json::Value;

/// OCPP 1.6's security whitepaper and 2.0.1 bound a charge point's identity to 48 characters.
const MAX_CHARGE_POINT_ID: usize = 48;
/// OCPP 2.0.1's BasicAuthPassword bounds.
const MIN_PASSWORD: usize = 16;
const MAX_PASSWORD: usize = 40;

/// The OCPP protocols a station may be pinned to.
pub const PROTOCOLS: [&str; 2] = [OCPP16, OCPP201];

/// What an operator configures of a station's charge point.
#[derive(Debug, Clone, PartialEq)]
pub struct OcppConfig {
    pub charge_point_id: String,
    /// `None` admits either protocol.
    pub protocol: Option<String>,
}

/// The `ocpp` field of a station body: `Some(None)` when absent or null (no charge point),
/// `None` on a problem.
pub fn ocpp(body: &Value, reader: &Reader<'_>, problems: &mut Problems) -> Option<Option<OcppConfig>> {
    // Null means "no charge point", as the station JSON shows it; the reader refuses null objects.
    if body.get("ocpp").is_none_or(Value::is_null) {
        return Some(None);
    }
    let ocpp = reader.object("ocpp", true, problems)?;
    ocpp.only(&["chargePointId", "protocol"], problems);
    let charge_point_id = ocpp.string("chargePointId", MAX_CHARGE_POINT_ID, problems).filter(|id| {
        // The id is the last segment of the charge point's URL and the user of its HTTP Basic
        // credentials, where ':' would end it.
        let fits = !id.chars().any(|c| c.is_whitespace() || c.is_control() || c == ':');
        if !fits {
            problems.add(ocpp.path("chargePointId"), "must not contain whitespace, control characters or ':'");
        }
        fits
    });
    let protocol = ocpp.optional_string("protocol", 16, problems).filter(|protocol| {
        let known = protocol.as_deref().is_none_or(|p| PROTOCOLS.contains(&p));
        if !known {
            problems.add(ocpp.path("protocol"), format!("must be one of {}, or null for either", PROTOCOLS.join(", ")));
        }
        known
    });
    Some(Some(OcppConfig { charge_point_id: charge_point_id?, protocol: protocol? }))
}

/// The body of `PUT .../ocpp-password`: the password, never echoed in a problem.
pub fn password(body: &Value) -> Result<String, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&["password"], &mut problems);
    let password = reader.string("password", MAX_PASSWORD, &mut problems).filter(|password| {
        let fits =
            password.chars().count() >= MIN_PASSWORD && password.chars().all(|c| c.is_ascii_graphic() || c == ' ');
        if !fits {
            problems.add("password", format!("must be {MIN_PASSWORD} to {MAX_PASSWORD} printable ASCII characters"));
        }
        fits
    });
    problems.finish()?;
    Ok(password.expect("checked above"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(body: Value) -> Result<Option<OcppConfig>, Value> {
        let mut problems = Problems::new();
        let reader = Reader::body(&body, &mut problems);
        let read = ocpp(&body, &reader, &mut problems);
        problems.finish().map(|()| read.unwrap()).map_err(|e| e.details.unwrap())
    }

    #[test]
    fn reads_a_charge_point() {
        let config = read(json!({ "ocpp": { "chargePointId": "CP-001", "protocol": "ocpp2.0.1" } })).unwrap().unwrap();
        assert_eq!(config, OcppConfig { charge_point_id: "CP-001".into(), protocol: Some("ocpp2.0.1".into()) });
        let either = read(json!({ "ocpp": { "chargePointId": "CP-001" } })).unwrap().unwrap();
        assert_eq!(either.protocol, None);
        assert_eq!(read(json!({ "ocpp": null })).unwrap(), None);
        assert_eq!(read(json!({})).unwrap(), None);
    }

    #[test]
    fn names_a_bad_id_or_protocol() {
        for id in ["", "CP 1", "CP:1", "CP\u{a0}1", &"x".repeat(49)] {
            let details = read(json!({ "ocpp": { "chargePointId": id } })).unwrap_err();
            assert!(details["ocpp.chargePointId"].is_string(), "{id:?}: {details}");
        }
        assert!(read(json!({ "ocpp": { "chargePointId": "x".repeat(48) } })).is_ok());
        let details = read(json!({ "ocpp": { "chargePointId": "CP", "protocol": "ocpp2.0" } })).unwrap_err();
        assert!(details["ocpp.protocol"].as_str().unwrap().contains("ocpp1.6"), "{details}");
        let details = read(json!({ "ocpp": { "protocol": 16, "extra": 1 } })).unwrap_err();
        for field in ["ocpp.chargePointId", "ocpp.protocol", "ocpp.extra"] {
            assert!(details.get(field).is_some(), "{field} missing from {details}");
        }
        assert_eq!(read(json!({ "ocpp": "CP-1" })).unwrap_err()["ocpp"], "must be an object");
    }

    #[test]
    fn a_password_is_16_to_40_printable_ascii_characters() {
        let good = "correct horse battery";
        assert_eq!(password(&json!({ "password": good })).unwrap(), good);
        assert!(password(&json!({ "password": "x".repeat(16) })).is_ok());
        assert!(password(&json!({ "password": "~".repeat(40) })).is_ok());
        for bad in ["x".repeat(15), "x".repeat(41), format!("{}é", "x".repeat(16)), format!("{}\t", "x".repeat(16))] {
            let error = password(&json!({ "password": bad })).unwrap_err();
            assert_eq!(error.status, 422);
            let problem = error.details.unwrap()["password"].as_str().unwrap().to_string();
            assert!(!problem.contains(&bad), "a problem never echoes the password: {problem}");
        }
        let details = password(&json!({})).unwrap_err().details.unwrap();
        assert_eq!(details["password"], "is required");
    }
}
