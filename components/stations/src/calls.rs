//! What the stations ask of their charge points, through the `ocpp` capability:
//! ChangeAvailability when an operator takes a connector out of service or puts it back,
//! and TriggerMessage for a fresh StatusNotification. The charge point answers the call
//! (its outcome comes back as an `ocpp.call-result.v1` event, which is logged), and then
//! reports the change in its own StatusNotifications, through the OCPP trigger.

use joule_sdk::api::{ApiError, Problems};
use joule_sdk::db;
use joule_sdk::events::Event;
use joule_sdk::ocpp::{self, OCPP201};
use serde_json::{Value, json};
use uuid::Uuid;

type Result<T> = std::result::Result<T, ApiError>;

/// The operator's status that takes a connector out of service.
const OUT_OF_SERVICE: &str = "Unavailable";

/// The version the charge point last booted with, else the one its station is pinned to.
fn speaks(station_id: Uuid) -> Result<Option<(String, String)>> {
    let rows = db::query(
        "SELECT charge_point_id, COALESCE(speaks, protocol, 'ocpp1.6') AS speaks FROM charge_points WHERE station_id = $1",
        &[&station_id],
    )?;
    Ok(rows.first().map(|row| Ok::<_, db::Error>((row.get("charge_point_id")?, row.get("speaks")?))).transpose()?)
}

/// A connector's OCPP numbers: its EVSE (1.6's connectorId) and, in `evse-connector`, its connector.
fn numbers(connector_id: &str) -> Result<(i64, Option<i64>)> {
    let mut parts = connector_id.splitn(2, '-').map(str::parse::<i64>);
    match (parts.next(), parts.next()) {
        (Some(Ok(evse)), None) if evse > 0 => Ok((evse, None)),
        (Some(Ok(evse)), Some(Ok(connector))) if evse > 0 && connector > 0 => Ok((evse, Some(connector))),
        _ => Err(Problems::one("connectorId", &format!("{connector_id:?} is no connector its OCPP charge point numbers"))),
    }
}

/// After an operator set a connector's status: ChangeAvailability if it left or entered
/// service, on a station with a charge point. None when nothing was sent.
pub fn availability_changed(station_id: Uuid, connector_id: &str, previous: &str, status: &str) -> Result<Option<String>> {
    let operational = match (previous == OUT_OF_SERVICE, status == OUT_OF_SERVICE) {
        (false, true) => "Inoperative",
        (true, false) => "Operative",
        _ => return Ok(None),
    };
    let Some((cp, protocol)) = speaks(station_id)? else { return Ok(None) };
    let (evse, connector) = numbers(connector_id)?;
    let payload = if protocol == OCPP201 {
        let mut evse = json!({ "id": evse });
        if let Some(connector) = connector {
            evse["connectorId"] = json!(connector);
        }
        json!({ "operationalStatus": operational, "evse": evse })
    } else {
        json!({ "connectorId": evse, "type": operational })
    };
    Ok(Some(ocpp::call(&cp, "ChangeAvailability", &payload)?))
}

/// Asks the station's charge point for a StatusNotification (of every connector).
pub fn refresh_status(station_id: Uuid) -> Result<String> {
    let Some((cp, _)) = speaks(station_id)? else {
        return Err(ApiError::new(422, "ocpp_not_configured", "the station has no OCPP charge point"));
    };
    Ok(ocpp::call(&cp, "TriggerMessage", &json!({ "requestedMessage": "StatusNotification" }))?)
}

/// The outcome of a call: logged, for the operator; the charge point's own messages change
/// the connector.
pub fn result(event: &Event) {
    let data: Value = event.data_as().unwrap_or_default();
    let (cp, action, status) = (&data["chargePointId"], &data["action"], &data["status"]);
    let answer = &data["payload"]["status"];
    if status == "result" && answer == "Accepted" {
        eprintln!("charge point {cp} accepted {action}");
    } else {
        eprintln!("charge point {cp} did not take {action}: {status} {answer} {} {}", data["error"], data["reason"]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connectors_are_numbered_as_ocpp_numbers_them() {
        assert_eq!(numbers("2").unwrap(), (2, None));
        assert_eq!(numbers("1-2").unwrap(), (1, Some(2)));
        assert!(numbers("A").is_err() && numbers("0").is_err() && numbers("1-x").is_err());
    }
}
