//! What each consumed event changes in the live state, read from its data. Only the fields
//! the live view needs are read; the rest of each event is its publisher's.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::live::{Heartbeat, Link, Meter, Session, Status, Station};

/// One change of the live state.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A station as created or updated: its charge point, its link, its connectors' statuses.
    Station { station_id: Uuid, station: Station, link: Link, statuses: Vec<(String, Status)> },
    Removed { station_id: Uuid },
    Status { station_id: Uuid, connector_id: String, status: Status },
    Session { station_id: Uuid, connector_id: String, session: Session },
    Meter { station_id: Uuid, connector_id: String, meter: Meter },
    Heartbeat { station_id: Uuid, heartbeat: Heartbeat },
    Link { station_id: Uuid, link: Link },
}

impl Change {
    pub fn station_id(&self) -> Uuid {
        match self {
            Self::Station { station_id, .. }
            | Self::Removed { station_id }
            | Self::Status { station_id, .. }
            | Self::Session { station_id, .. }
            | Self::Meter { station_id, .. }
            | Self::Heartbeat { station_id, .. }
            | Self::Link { station_id, .. } => *station_id,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StationData {
    id: Uuid,
    connectors: Vec<ConnectorData>,
    ocpp: Option<OcppData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectorData {
    connector_id: String,
    status: String,
    ocpp_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OcppData {
    charge_point_id: String,
    last_seen_at: Option<DateTime<Utc>>,
    offline_since: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct RemovedData {
    id: Uuid,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusData {
    station_id: Uuid,
    connector_id: String,
    status: String,
    ocpp_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionData {
    session_id: Uuid,
    station_id: Uuid,
    connector_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MeterData {
    session_id: Uuid,
    station_id: Uuid,
    connector_id: String,
    timestamp: DateTime<Utc>,
    session_energy_wh: i64,
    power_w: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeartbeatData {
    station_id: Uuid,
    at: DateTime<Utc>,
    interval_seconds: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfflineData {
    station_id: Uuid,
    offline_since: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OnlineData {
    station_id: Uuid,
}

/// The change an event of `event_type` with `data`, published at `at`, makes; `None` for an
/// event the live view has no use for. The error says what in the data does not read.
pub fn of(event_type: &str, data: &str, at: DateTime<Utc>) -> Result<Option<Change>, String> {
    Ok(Some(match event_type {
        "station.created.v1" | "station.updated.v1" => station(parse(data)?, at),
        "station.removed.v1" => Change::Removed { station_id: parse::<RemovedData>(data)?.id },
        "station.status-changed.v1" => {
            let data: StatusData = parse(data)?;
            let status = Status { status: data.status, ocpp_status: data.ocpp_status, at };
            Change::Status { station_id: data.station_id, connector_id: data.connector_id, status }
        }
        "charging.session.started.v1" => session(parse(data)?, true, at),
        "charging.session.completed.v1" => session(parse(data)?, false, at),
        "charging.meter-values.v1" => {
            let data: MeterData = parse(data)?;
            let meter = Meter { session_id: data.session_id, at: data.timestamp, energy_wh: data.session_energy_wh, power_w: data.power_w };
            Change::Meter { station_id: data.station_id, connector_id: data.connector_id, meter }
        }
        "charge-point.heartbeat.v1" => {
            let data: HeartbeatData = parse(data)?;
            Change::Heartbeat { station_id: data.station_id, heartbeat: Heartbeat { at: data.at, interval_seconds: data.interval_seconds } }
        }
        "charger.offline.v1" => {
            let data: OfflineData = parse(data)?;
            Change::Link { station_id: data.station_id, link: Link { online: Some(false), offline_since: Some(data.offline_since), at } }
        }
        "charger.online.v1" => {
            let data: OnlineData = parse(data)?;
            Change::Link { station_id: data.station_id, link: Link { online: Some(true), offline_since: None, at } }
        }
        // Connections come and go; only missed heartbeats make a charge point offline.
        _ => return Ok(None),
    }))
}

fn parse<T: DeserializeOwned>(data: &str) -> Result<T, String> {
    serde_json::from_str(data).map_err(|e| format!("unexpected data: {e}"))
}

fn station(data: StationData, at: DateTime<Utc>) -> Change {
    // Heard of once, it is online unless the station says since when it is not.
    let heard = data.ocpp.as_ref().filter(|ocpp| ocpp.last_seen_at.is_some());
    let link = Link {
        online: heard.map(|ocpp| ocpp.offline_since.is_none()),
        offline_since: heard.and_then(|ocpp| ocpp.offline_since),
        at,
    };
    let station = Station {
        charge_point_id: data.ocpp.map(|ocpp| ocpp.charge_point_id),
        connectors: data.connectors.iter().map(|c| c.connector_id.clone()).collect(),
        at,
    };
    let statuses = data
        .connectors
        .into_iter()
        .map(|c| (c.connector_id, Status { status: c.status, ocpp_status: c.ocpp_status, at }))
        .collect();
    Change::Station { station_id: data.id, station, link, statuses }
}

fn session(data: SessionData, active: bool, at: DateTime<Utc>) -> Change {
    let session = Session { session_id: data.session_id, active, at };
    Change::Session { station_id: data.station_id, connector_id: data.connector_id, session }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const STATION: &str = "01900000-0000-7000-8000-0000000000b1";
    const SESSION: &str = "01900000-0000-7000-8000-0000000000a1";

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn station_id() -> Uuid {
        Uuid::parse_str(STATION).unwrap()
    }

    fn change(event_type: &str, data: serde_json::Value) -> Option<Change> {
        of(event_type, &data.to_string(), at("2026-03-02T08:00:00Z")).unwrap()
    }

    #[test]
    fn a_station_event_gives_its_charge_point_link_and_connector_statuses() {
        let published = at("2026-03-02T08:00:00Z");
        let data = json!({
            "id": STATION, "name": "Harbour Hub",
            "connectors": [
                { "connectorId": "1", "type": "Type2", "maxPowerKw": 22, "status": "Charging", "ocppStatus": "SuspendedEV" },
                { "connectorId": "2", "type": "CCS2", "maxPowerKw": 150, "status": "Available", "ocppStatus": null }
            ],
            "ocpp": { "chargePointId": "CP-1", "lastSeenAt": "2026-03-02T07:59:00Z", "offlineSince": null },
            "updatedAt": "2026-03-02T07:59:00Z"
        });
        let Some(Change::Station { station_id: id, station, link, statuses }) = change("station.updated.v1", data.clone()) else {
            panic!("a station change")
        };
        assert_eq!(id, station_id());
        assert_eq!(station, Station { charge_point_id: Some("CP-1".into()), connectors: vec!["1".into(), "2".into()], at: published });
        assert_eq!(link, Link { online: Some(true), offline_since: None, at: published });
        assert_eq!(statuses[0], ("1".into(), Status { status: "Charging".into(), ocpp_status: Some("SuspendedEV".into()), at: published }));
        assert_eq!(statuses[1].1.ocpp_status, None);

        let mut offline = data.clone();
        offline["ocpp"]["offlineSince"] = json!("2026-03-02T07:59:30Z");
        let Some(Change::Station { link, .. }) = change("station.updated.v1", offline) else { panic!("a station change") };
        assert_eq!((link.online, link.offline_since), (Some(false), Some(at("2026-03-02T07:59:30Z"))));

        let mut never_heard = data.clone();
        never_heard["ocpp"]["lastSeenAt"] = json!(null);
        let Some(Change::Station { link, .. }) = change("station.created.v1", never_heard) else { panic!("a station change") };
        assert_eq!(link.online, None);

        let mut without_ocpp = data;
        without_ocpp["ocpp"] = json!(null);
        let Some(Change::Station { station, link, .. }) = change("station.updated.v1", without_ocpp) else { panic!("a station change") };
        assert_eq!((station.charge_point_id, link.online), (None, None));
    }

    #[test]
    fn sessions_and_meter_values_change_their_connector() {
        let started = json!({ "id": SESSION, "sessionId": SESSION, "stationId": STATION, "connectorId": "1", "status": "active" });
        let Some(Change::Session { connector_id, session, .. }) = change("charging.session.started.v1", started.clone()) else {
            panic!("a session change")
        };
        assert_eq!((connector_id.as_str(), session.active), ("1", true));
        let Some(Change::Session { session, .. }) = change("charging.session.completed.v1", started) else { panic!("a session change") };
        assert!(!session.active);

        let reading = json!({
            "sessionId": SESSION, "stationId": STATION, "connectorId": "2", "driverId": "ada",
            "timestamp": "2026-03-02T08:10:00.000Z", "energyWh": 7500, "sessionEnergyWh": 6500, "powerW": 11000
        });
        let Some(Change::Meter { connector_id, meter, .. }) = change("charging.meter-values.v1", reading) else { panic!("a meter change") };
        assert_eq!(connector_id, "2");
        assert_eq!((meter.at, meter.energy_wh, meter.power_w), (at("2026-03-02T08:10:00Z"), 6500, Some(11000)));
    }

    #[test]
    fn presence_events_change_the_link_and_the_heartbeat() {
        let beat = json!({ "stationId": STATION, "chargePointId": "CP-1", "at": "2026-03-02T07:59:59.500Z", "intervalSeconds": 60 });
        let Some(Change::Heartbeat { heartbeat, .. }) = change("charge-point.heartbeat.v1", beat) else { panic!("a heartbeat") };
        assert_eq!(heartbeat, Heartbeat { at: at("2026-03-02T07:59:59.500Z"), interval_seconds: Some(60) });

        let offline = json!({ "stationId": STATION, "chargePointId": "CP-1", "lastHeardAt": "2026-03-02T07:57:00Z", "offlineSince": "2026-03-02T08:00:00Z" });
        let Some(Change::Link { link, .. }) = change("charger.offline.v1", offline) else { panic!("a link change") };
        assert_eq!((link.online, link.offline_since), (Some(false), Some(at("2026-03-02T08:00:00Z"))));

        let online = json!({ "stationId": STATION, "chargePointId": "CP-1", "at": "2026-03-02T08:00:00Z", "offlineSince": "2026-03-02T07:00:00Z" });
        let Some(Change::Link { link, .. }) = change("charger.online.v1", online) else { panic!("a link change") };
        assert_eq!((link.online, link.offline_since), (Some(true), None));
    }

    #[test]
    fn other_events_change_nothing_and_bad_data_is_refused() {
        assert_eq!(change("charge-point.connected.v1", json!({ "chargePointId": "CP-1" })), None);
        assert_eq!(change("station.removed.v1", json!({ "id": STATION })), Some(Change::Removed { station_id: station_id() }));
        let bad = of("charger.offline.v1", r#"{"stationId": "not a uuid"}"#, at("2026-03-02T08:00:00Z"));
        assert!(bad.unwrap_err().starts_with("unexpected data"));
    }
}
