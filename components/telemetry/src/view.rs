//! `GET /api/v1/telemetry/stations/{id}`: the live view of a station, from the facts the
//! events left. A station the events never described, or one since removed, is a 404.

use chrono::{DateTime, Utc};
use joule_sdk::api::{self, ApiError};
use joule_sdk::kv;
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::live::{Heartbeat, Link, Meter, Session, Station, Status, keys};
use crate::store;

/// Everything known of a station now.
struct Live {
    station_id: Uuid,
    station: Station,
    link: Option<Link>,
    heartbeat: Option<Heartbeat>,
    connectors: Vec<ConnectorLive>,
}

struct ConnectorLive {
    connector_id: String,
    status: Option<Status>,
    session: Option<Session>,
    meter: Option<Meter>,
}

pub fn station(_: Request, params: Params) -> Result<Response, ApiError> {
    let raw = params.get("id").unwrap_or_default();
    let unknown = || ApiError::not_found("station", raw);
    let station_id = Uuid::parse_str(raw).map_err(|_| unknown())?;
    let live = read(station_id).map_err(unavailable)?.ok_or_else(unknown)?;
    Ok(api::json(200, &render(&live)))
}

fn read(station_id: Uuid) -> Result<Option<Live>, kv::Error> {
    if kv::exists(&keys::removed(station_id))? {
        return Ok(None);
    }
    let Some(station) = store::latest::<Station>(&keys::station(station_id))? else { return Ok(None) };
    let mut connectors = Vec::with_capacity(station.connectors.len());
    for connector_id in &station.connectors {
        connectors.push(ConnectorLive {
            connector_id: connector_id.clone(),
            status: store::latest(&keys::status(station_id, connector_id))?,
            session: store::latest(&keys::session(station_id, connector_id))?,
            meter: store::latest(&keys::meter(station_id, connector_id))?,
        });
    }
    Ok(Some(Live {
        station_id,
        link: store::latest(&keys::link(station_id))?,
        heartbeat: store::latest(&keys::heartbeat(station_id))?,
        station,
        connectors,
    }))
}

fn render(live: &Live) -> Value {
    let link = live.link.as_ref();
    json!({
        "stationId": live.station_id,
        "chargePointId": live.station.charge_point_id,
        "online": link.and_then(|l| l.online),
        "offlineSince": link.and_then(|l| l.offline_since).map(api::time),
        "lastHeartbeatAt": live.heartbeat.as_ref().map(|h| api::time(h.at)),
        "heartbeatIntervalSeconds": live.heartbeat.as_ref().and_then(|h| h.interval_seconds),
        "connectors": live.connectors.iter().map(connector).collect::<Vec<_>>(),
    })
}

/// A connector's line: what is charging on it, if anything, and how fast and how much.
fn connector(live: &ConnectorLive) -> Value {
    let charging = live.session.as_ref().filter(|s| s.active);
    // Readings of a session that has ended, or of an earlier one, are not live.
    let meter = live.meter.as_ref().filter(|m| charging.is_some_and(|s| s.session_id == m.session_id));
    let updated_at: Option<DateTime<Utc>> = [
        live.status.as_ref().map(|s| s.at),
        live.session.as_ref().map(|s| s.at),
        meter.map(|m| m.at),
    ]
    .into_iter()
    .flatten()
    .max();
    json!({
        "connectorId": live.connector_id,
        "status": status(live.status.as_ref(), charging.is_some()),
        "ocppStatus": live.status.as_ref().and_then(|s| s.ocpp_status.as_deref()),
        "sessionId": charging.map(|s| s.session_id),
        "powerW": meter.and_then(|m| m.power_w),
        "energyWh": meter.map(|m| m.energy_wh).or(charging.map(|_| 0)),
        "updatedAt": updated_at.map(api::time),
    })
}

/// The status the stations keep, but a connector with a session going is charging: a
/// station without a charge point never hears of its sessions.
fn status(status: Option<&Status>, charging: bool) -> Option<&str> {
    match status.map(|s| s.status.as_str()) {
        None | Some("Available") if charging => Some("Charging"),
        other => other,
    }
}

fn unavailable(error: kv::Error) -> ApiError {
    eprintln!("reading the live view failed: {error:?}");
    ApiError::new(503, "temporarily_unavailable", "the live view could not be read; retry")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "01900000-0000-7000-8000-0000000000a1";
    const EARLIER_SESSION: &str = "01900000-0000-7000-8000-0000000000a0";

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn id(text: &str) -> Uuid {
        Uuid::parse_str(text).unwrap()
    }

    fn available() -> Status {
        Status { status: "Available".into(), ocpp_status: Some("Available".into()), at: at("2026-03-02T08:00:00Z") }
    }

    fn started() -> Session {
        Session { session_id: id(SESSION), active: true, at: at("2026-03-02T08:01:00Z") }
    }

    fn reading(session: &str) -> Meter {
        Meter { session_id: id(session), at: at("2026-03-02T08:05:00Z"), energy_wh: 900, power_w: Some(11000) }
    }

    fn line(status: Option<Status>, session: Option<Session>, meter: Option<Meter>) -> Value {
        connector(&ConnectorLive { connector_id: "1".into(), status, session, meter })
    }

    #[test]
    fn a_charging_connector_shows_its_session_power_and_energy() {
        assert_eq!(
            line(Some(available()), Some(started()), Some(reading(SESSION))),
            json!({
                "connectorId": "1", "status": "Charging", "ocppStatus": "Available", "sessionId": SESSION,
                "powerW": 11000, "energyWh": 900, "updatedAt": "2026-03-02T08:05:00.000Z",
            })
        );
        let just_started = line(Some(available()), Some(started()), None);
        assert_eq!((&just_started["energyWh"], &just_started["powerW"]), (&json!(0), &Value::Null), "{just_started}");
        let earlier = line(Some(available()), Some(started()), Some(reading(EARLIER_SESSION)));
        assert_eq!((&earlier["energyWh"], &earlier["powerW"]), (&json!(0), &Value::Null), "an earlier session's reading: {earlier}");
    }

    #[test]
    fn an_idle_connector_shows_its_status_and_nothing_charging() {
        let completed = Session { active: false, at: at("2026-03-02T09:00:00Z"), ..started() };
        assert_eq!(
            line(Some(available()), Some(completed), Some(reading(SESSION))),
            json!({
                "connectorId": "1", "status": "Available", "ocppStatus": "Available", "sessionId": null,
                "powerW": null, "energyWh": null, "updatedAt": "2026-03-02T09:00:00.000Z",
            })
        );
        let unheard = line(None, None, None);
        assert_eq!((&unheard["status"], &unheard["updatedAt"]), (&Value::Null, &Value::Null), "{unheard}");
    }

    #[test]
    fn a_status_other_than_available_is_kept_while_charging() {
        let faulted = Status { status: "Faulted".into(), ocpp_status: None, at: at("2026-03-02T08:00:00Z") };
        assert_eq!(status(Some(&faulted), true), Some("Faulted"));
        assert_eq!(status(None, true), Some("Charging"));
        assert_eq!(status(Some(&available()), false), Some("Available"));
    }

    #[test]
    fn the_station_shows_its_charge_points_link_and_last_heartbeat() {
        let live = Live {
            station_id: id("01900000-0000-7000-8000-0000000000b1"),
            station: Station { charge_point_id: Some("CP-1".into()), connectors: vec![], at: at("2026-03-02T08:00:00Z") },
            link: Some(Link { online: Some(false), offline_since: Some(at("2026-03-02T08:03:00Z")), at: at("2026-03-02T08:03:01Z") }),
            heartbeat: Some(Heartbeat { at: at("2026-03-02T08:00:00Z"), interval_seconds: Some(60) }),
            connectors: vec![],
        };
        assert_eq!(
            render(&live),
            json!({
                "stationId": "01900000-0000-7000-8000-0000000000b1", "chargePointId": "CP-1", "online": false,
                "offlineSince": "2026-03-02T08:03:00.000Z", "lastHeartbeatAt": "2026-03-02T08:00:00.000Z",
                "heartbeatIntervalSeconds": 60, "connectors": [],
            })
        );
        let unheard = Live { link: None, heartbeat: None, ..live };
        let shown = render(&unheard);
        assert_eq!((&shown["online"], &shown["lastHeartbeatAt"]), (&Value::Null, &Value::Null), "{shown}");
    }
}
