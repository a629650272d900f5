//! The event handler: keeps this component's copy of stations, connectors, tariff versions
//! and charging tokens from their events, newest first, whatever order they arrive in;
//! hands the component's own no-show timers to [`expiry`]; and learns from connector
//! statuses where a session's charging ended.

use chrono::{DateTime, Utc};
use joule_sdk::db;
use joule_sdk::events::{Event, Handler, HandlerError};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::{charging, expiry, holds, remote, tokens};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connector {
    connector_id: String,
    status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Station {
    id: Uuid,
    time_zone: String,
    tariff_id: Option<String>,
    connectors: Vec<Connector>,
    updated_at: DateTime<Utc>,
    #[serde(default)]
    ocpp: Option<StationOcpp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StationOcpp {
    charge_point_id: String,
    /// The OCPP version the station is pinned to, if it is.
    protocol: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusChange {
    station_id: Uuid,
    connector_id: String,
    status: String,
    /// What an OCPP charge point reported, when one did.
    ocpp_status: Option<String>,
    changed_at: Option<DateTime<Utc>>,
}

/// OCPP 1.6 connector statuses after which the car is parked, not charging; and the one
/// that says it charges again.
const CHARGING_ENDED: [&str; 2] = ["SuspendedEV", "Finishing"];
const CHARGING: &str = "Charging";

#[derive(Deserialize)]
struct Removed {
    id: Uuid,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tariff {
    id: String,
    version: i64,
    rule: String,
    start_date_time: Option<DateTime<Utc>>,
    end_date_time: Option<DateTime<Utc>>,
}

/// A failure that may pass: the delivery is retried.
pub fn retry(error: impl std::fmt::Debug) -> HandlerError {
    HandlerError::Retryable(format!("{error:?}"))
}

fn station(station: Station) -> Result<(), db::Error> {
    let newer = db::execute(
        "INSERT INTO stations (id, time_zone, tariff_id, updated_at, charge_point_id, ocpp_protocol) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET time_zone = excluded.time_zone, tariff_id = excluded.tariff_id,
                                        updated_at = excluded.updated_at, charge_point_id = excluded.charge_point_id,
                                        ocpp_protocol = excluded.ocpp_protocol
         WHERE stations.updated_at <= excluded.updated_at",
        &[
            &station.id,
            &station.time_zone,
            &station.tariff_id,
            &station.updated_at,
            &station.ocpp.as_ref().map(|o| o.charge_point_id.clone()),
            &station.ocpp.and_then(|o| o.protocol),
        ],
    )?;
    if newer == 0 {
        return Ok(());
    }
    let ids: Vec<&str> = station.connectors.iter().map(|c| c.connector_id.as_str()).collect();
    let existing = db::query("SELECT connector_id FROM connectors WHERE station_id = $1", &[&station.id])?;
    for row in existing.iter() {
        let id: String = row.get("connector_id")?;
        if !ids.contains(&id.as_str()) {
            db::execute("DELETE FROM connectors WHERE station_id = $1 AND connector_id = $2", &[&station.id, &id])?;
        }
    }
    for connector in &station.connectors {
        db::execute(
            "INSERT INTO connectors (station_id, connector_id, status) VALUES ($1, $2, $3)
             ON CONFLICT (station_id, connector_id) DO UPDATE SET status = excluded.status",
            &[&station.id, &connector.connector_id, &connector.status],
        )?;
    }
    Ok(())
}

/// Sets the connector's status; an OCPP status also says whether the session on it is
/// charging or parked.
fn status_changed(change: &StatusChange, event: &Event) -> Result<(), db::Error> {
    db::execute(
        "UPDATE connectors SET status = $3 WHERE station_id = $1 AND connector_id = $2",
        &[&change.station_id, &change.connector_id, &change.status],
    )?;
    let Some(ocpp_status) = change.ocpp_status.as_deref() else { return Ok(()) };
    let ended = CHARGING_ENDED.contains(&ocpp_status);
    if !ended && ocpp_status != CHARGING {
        return Ok(());
    }
    let at = change.changed_at.or_else(|| event.time.parse().ok()).unwrap_or_else(Utc::now);
    charging::charging_state(change.station_id, &change.connector_id, ended, at)
}

fn apply(event: &Event) -> Result<(), HandlerError> {
    let data: Value = event.data_as()?;
    let parse = |_: ()| HandlerError::Permanent(format!("unexpected {} data", event.event_type));
    match event.event_type.as_str() {
        expiry::CHECK => expiry::check(event),
        holds::RESERVE_NOW => holds::reserve_now(event),
        "station.created.v1" | "station.updated.v1" => {
            station(serde_json::from_value(data).map_err(|_| parse(()))?).map_err(retry)
        }
        "station.removed.v1" => {
            let removed: Removed = serde_json::from_value(data).map_err(|_| parse(()))?;
            db::execute("DELETE FROM connectors WHERE station_id = $1", &[&removed.id]).map_err(retry)?;
            db::execute("DELETE FROM stations WHERE id = $1", &[&removed.id]).map(drop).map_err(retry)
        }
        "station.status-changed.v1" => {
            let change: StatusChange = serde_json::from_value(data).map_err(|_| parse(()))?;
            status_changed(&change, event).map_err(retry)
        }
        "token.issued.v1" | "token.status-changed.v1" | "token.revoked.v1" => tokens::apply(event),
        "charge-point.connected.v1" => remote::connected(event),
        joule_sdk::ocpp::CALL_RESULT_EVENT => remote::result(event),
        "tariff.created.v1" | "tariff.updated.v1" => {
            let tariff: Tariff = serde_json::from_value(data).map_err(|_| parse(()))?;
            db::execute(
                "INSERT INTO tariffs (id, version, rule, valid_from, valid_until) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version, rule = excluded.rule,
                     valid_from = excluded.valid_from, valid_until = excluded.valid_until
                 WHERE tariffs.version < excluded.version",
                &[&tariff.id, &tariff.version, &tariff.rule, &tariff.start_date_time, &tariff.end_date_time],
            )
            .map(drop)
            .map_err(retry)
        }
        _ => Ok(()),
    }
}

pub struct Replica;

impl Handler for Replica {
    fn handle(event: Event) -> Result<(), HandlerError> {
        apply(&event)
    }
}
