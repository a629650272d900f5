//! What charge points say, read from either OCPP version into one shape: BootNotification's
//! identity, and StatusNotification's connector and status in the platform's terms.

use chrono::{DateTime, Utc};
use joule_sdk::api::timestamp;
use joule_sdk::ocpp::{CallError, ErrorCode, Request, Target, connector_v16, connector_v201};
use serde::Deserialize;

use crate::charge_points::BootInfo;

/// A StatusNotification, read.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub target: Target,
    /// As the charge point said it, such as "SuspendedEV" (1.6) or "Occupied" (2.0.1).
    pub ocpp_status: String,
    /// The platform's status derived from it.
    pub status: &'static str,
    /// When the charge point says the status changed, if it says so.
    pub at: Option<DateTime<Utc>>,
}

/// The platform status of an OCPP connector status, in either version. Every state of a
/// plugged-in connector is "Charging" (occupied); sessions tell charging from parking.
pub fn platform_status(ocpp_status: &str) -> Option<&'static str> {
    Some(match ocpp_status {
        "Available" => "Available",
        "Preparing" | "Charging" | "SuspendedEVSE" | "SuspendedEV" | "Finishing" | "Occupied" => "Charging",
        "Reserved" => "Reserved",
        "Unavailable" => "Unavailable",
        "Faulted" => "Faulted",
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Boot16 {
    charge_point_vendor: String,
    charge_point_model: String,
    charge_point_serial_number: Option<String>,
    /// Deprecated in 1.6, but what older charge points send.
    charge_box_serial_number: Option<String>,
    firmware_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Boot201 {
    charging_station: ChargingStation,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChargingStation {
    vendor_name: String,
    model: String,
    serial_number: Option<String>,
    firmware_version: Option<String>,
}

/// What a BootNotification says of the charge point.
pub fn boot(request: &Request) -> Result<BootInfo, CallError> {
    let info = if request.is_v16() {
        let boot: Boot16 = request.payload_as()?;
        BootInfo {
            vendor: boot.charge_point_vendor,
            model: boot.charge_point_model,
            serial_number: boot.charge_point_serial_number.or(boot.charge_box_serial_number),
            firmware_version: boot.firmware_version,
        }
    } else {
        let station = request.payload_as::<Boot201>()?.charging_station;
        BootInfo {
            vendor: station.vendor_name,
            model: station.model,
            serial_number: station.serial_number,
            firmware_version: station.firmware_version,
        }
    };
    Ok(BootInfo {
        vendor: printable(info.vendor),
        model: printable(info.model),
        serial_number: info.serial_number.map(printable),
        firmware_version: info.firmware_version.map(printable),
    })
}

/// The schemas bound lengths, not characters: control characters are dropped, so what the
/// API shows holds none, as everything else it shows (and Postgres refuses NUL).
fn printable(text: String) -> String {
    if text.chars().any(char::is_control) { text.chars().filter(|c| !c.is_control()).collect() } else { text }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status16 {
    connector_id: i64,
    status: String,
    timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status201 {
    timestamp: String,
    connector_status: String,
    evse_id: i64,
    connector_id: i64,
}

/// What a StatusNotification says.
pub fn status(request: &Request) -> Result<StatusReport, CallError> {
    let (target, ocpp_status, at) = if request.is_v16() {
        let status: Status16 = request.payload_as()?;
        (connector_v16(status.connector_id), status.status, status.timestamp)
    } else {
        let status: Status201 = request.payload_as()?;
        (connector_v201(status.evse_id, status.connector_id), status.connector_status, Some(status.timestamp))
    };
    // The schema names every status, so an unknown one means a payload the schema let through.
    let status = platform_status(&ocpp_status).ok_or_else(|| {
        CallError::new(ErrorCode::PropertyConstraintViolation, format!("unknown connector status {ocpp_status:?}"))
    })?;
    // A timestamp that does not read (or lies past what is stored) is replaced by the time received.
    let at = at.and_then(|at| timestamp::parse(&at).ok());
    Ok(StatusReport { target, ocpp_status, status, at })
}

#[cfg(test)]
mod tests {
    use joule_sdk::ocpp::{OCPP16, OCPP201};
    use serde_json::{Value, json};

    use super::*;

    fn request(protocol: &str, action: &str, payload: Value) -> Request {
        Request::example(protocol, action, payload)
    }

    #[test]
    fn every_ocpp_status_has_a_platform_status() {
        let expected = [
            ("Available", "Available"),
            ("Preparing", "Charging"),
            ("Charging", "Charging"),
            ("SuspendedEVSE", "Charging"),
            ("SuspendedEV", "Charging"),
            ("Finishing", "Charging"),
            ("Occupied", "Charging"),
            ("Reserved", "Reserved"),
            ("Unavailable", "Unavailable"),
            ("Faulted", "Faulted"),
        ];
        for (ocpp, platform) in expected {
            assert_eq!(platform_status(ocpp), Some(platform), "{ocpp}");
        }
        assert_eq!(platform_status("available"), None);
    }

    #[test]
    fn reads_a_status_notification_in_either_version() {
        let v16 = request(
            OCPP16,
            "StatusNotification",
            json!({ "connectorId": 1, "errorCode": "NoError", "status": "SuspendedEV", "timestamp": "2026-03-01T10:00:00Z" }),
        );
        let report = status(&v16).unwrap();
        assert_eq!(report.target, Target::Connector("1".into()));
        assert_eq!((report.ocpp_status.as_str(), report.status), ("SuspendedEV", "Charging"));
        assert_eq!(report.at, Some("2026-03-01T10:00:00Z".parse().unwrap()));
        let untimed = request(
            OCPP16,
            "StatusNotification",
            json!({ "connectorId": 0, "errorCode": "NoError", "status": "Available" }),
        );
        assert_eq!(status(&untimed).unwrap().at, None);
        let v201 = request(
            OCPP201,
            "StatusNotification",
            json!({ "timestamp": "2026-03-01T10:00:00+01:00", "connectorStatus": "Occupied", "evseId": 2, "connectorId": 2 }),
        );
        let report = status(&v201).unwrap();
        assert_eq!(report.target, Target::Connector("2-2".into()));
        assert_eq!(report.status, "Charging");
        assert_eq!(report.at, Some("2026-03-01T09:00:00Z".parse().unwrap()));
        let odd = request(
            OCPP16,
            "StatusNotification",
            json!({ "connectorId": 1, "errorCode": "NoError", "status": "Dancing" }),
        );
        assert_eq!(status(&odd).unwrap_err().code, ErrorCode::PropertyConstraintViolation);
    }

    #[test]
    fn reads_a_boot_notification_in_either_version() {
        let v16 = request(
            OCPP16,
            "BootNotification",
            json!({ "chargePointVendor": "Acme", "chargePointModel": "Volt\u{0}1", "chargeBoxSerialNumber": "SN-9", "iccid": "1" }),
        );
        assert_eq!(
            boot(&v16).unwrap(),
            BootInfo {
                vendor: "Acme".into(),
                model: "Volt1".into(),
                serial_number: Some("SN-9".into()),
                firmware_version: None,
            }
        );
        let v201 = request(
            OCPP201,
            "BootNotification",
            json!({
                "chargingStation": { "vendorName": "Acme", "model": "Volt", "serialNumber": "SN-1", "firmwareVersion": "2.1" },
                "reason": "PowerUp"
            }),
        );
        assert_eq!(
            boot(&v201).unwrap(),
            BootInfo {
                vendor: "Acme".into(),
                model: "Volt".into(),
                serial_number: Some("SN-1".into()),
                firmware_version: Some("2.1".into()),
            }
        );
    }
}
