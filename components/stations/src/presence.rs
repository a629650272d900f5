//! A charge point's presence as events, for whoever watches chargers live: each Heartbeat,
//! its going offline after missed heartbeats, and its coming back.

use chrono::{DateTime, Utc};
use joule_sdk::api;
use serde_json::{Value, json};
use uuid::Uuid;

pub const HEARTBEAT: &str = "charge-point.heartbeat.v1";
pub const OFFLINE: &str = "charger.offline.v1";
pub const ONLINE: &str = "charger.online.v1";

/// `charge-point.heartbeat.v1`: the charge point sent a Heartbeat at `at`.
pub fn heartbeat(station_id: Uuid, charge_point_id: &str, at: DateTime<Utc>, interval_seconds: i64) -> Value {
    json!({
        "stationId": station_id,
        "chargePointId": charge_point_id,
        "at": api::time(at),
        "intervalSeconds": interval_seconds,
    })
}

/// `charger.offline.v1`: nothing was heard after `last_heard_at`, so it is offline since
/// three heartbeat intervals later.
pub fn offline(station_id: Uuid, charge_point_id: &str, last_heard_at: DateTime<Utc>, offline_since: DateTime<Utc>) -> Value {
    json!({
        "stationId": station_id,
        "chargePointId": charge_point_id,
        "lastHeardAt": api::time(last_heard_at),
        "offlineSince": api::time(offline_since),
    })
}

/// `charger.online.v1`: an offline charge point spoke again at `at`.
pub fn online(station_id: Uuid, charge_point_id: &str, at: DateTime<Utc>, offline_since: DateTime<Utc>) -> Value {
    json!({
        "stationId": station_id,
        "chargePointId": charge_point_id,
        "at": api::time(at),
        "offlineSince": api::time(offline_since),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn presence_events_name_the_station_and_charge_point_with_api_times() {
        let station = Uuid::parse_str("01900000-0000-7000-8000-000000000001").unwrap();
        assert_eq!(
            heartbeat(station, "CP-1", at("2026-03-02T08:00:00.123456Z"), 60),
            json!({ "stationId": station, "chargePointId": "CP-1", "at": "2026-03-02T08:00:00.123Z", "intervalSeconds": 60 })
        );
        assert_eq!(
            offline(station, "CP-1", at("2026-03-02T08:00:00Z"), at("2026-03-02T08:03:00Z")),
            json!({ "stationId": station, "chargePointId": "CP-1", "lastHeardAt": "2026-03-02T08:00:00.000Z", "offlineSince": "2026-03-02T08:03:00.000Z" })
        );
        assert_eq!(
            online(station, "CP-1", at("2026-03-02T08:10:00Z"), at("2026-03-02T08:03:00Z")),
            json!({ "stationId": station, "chargePointId": "CP-1", "at": "2026-03-02T08:10:00.000Z", "offlineSince": "2026-03-02T08:03:00.000Z" })
        );
    }
}
