//! `charging.meter-values.v1`: each meter reading a session keeps, for the live view of
//! chargers. Published in the reading's unit of work, so a reading rolled back says nothing.

use chrono::{DateTime, Utc};
use joule_sdk::api::{self, ApiError};
use serde_json::{Value, json};

pub const METER_VALUES: &str = "charging.meter-values.v1";

/// One reading of a session's meter.
pub struct Reading {
    pub at: DateTime<Utc>,
    /// The register's total, in Wh.
    pub energy_wh: i64,
    /// The register at the session's start, in Wh.
    pub meter_start_wh: i64,
    /// `Power.Active.Import`, in W, when the charger sent it.
    pub power_w: Option<i64>,
}

/// Publishes the reading of `session` (the session as stored, with its place and driver).
pub fn publish(session: &Value, reading: &Reading) -> Result<(), ApiError> {
    api::publish(METER_VALUES, &data(session, reading))
}

fn data(session: &Value, reading: &Reading) -> Value {
    json!({
        "sessionId": session["id"],
        "stationId": session["stationId"],
        "connectorId": session["connectorId"],
        "driverId": session["driverId"],
        "timestamp": api::time(reading.at),
        "energyWh": reading.energy_wh,
        // Readings never go below the start, but a register is the charger's to report.
        "sessionEnergyWh": (reading.energy_wh - reading.meter_start_wh).max(0),
        "powerW": reading.power_w,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_carries_the_register_the_energy_since_the_start_and_the_power() {
        let session = json!({
            "id": "01900000-0000-7000-8000-0000000000a1", "stationId": "01900000-0000-7000-8000-0000000000b1",
            "connectorId": "1", "driverId": "ada", "meterStartWh": 1000, "status": "active",
        });
        let reading = Reading { at: "2026-03-02T08:00:00Z".parse().unwrap(), energy_wh: 6500, meter_start_wh: 1000, power_w: Some(11000) };
        assert_eq!(
            data(&session, &reading),
            json!({
                "sessionId": "01900000-0000-7000-8000-0000000000a1", "stationId": "01900000-0000-7000-8000-0000000000b1",
                "connectorId": "1", "driverId": "ada", "timestamp": "2026-03-02T08:00:00.000Z",
                "energyWh": 6500, "sessionEnergyWh": 5500, "powerW": 11000,
            })
        );
        let unpowered = Reading { power_w: None, ..reading };
        assert_eq!(data(&session, &unpowered)["powerW"], Value::Null);
    }
}
