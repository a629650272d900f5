//! The stations API under `/api/v1/stations`.

use chrono::Utc;
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Page, Problems};
use serde_json::json;
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::input::{self, NewConnector};
use crate::station::{Connector, INITIAL_STATUS, Station};
use crate::store;

type Result<T = Response> = std::result::Result<T, ApiError>;

pub fn create(request: Request, _: Params) -> Result {
    Caller::require_operator()?;
    let new = input::new_station(&api::read_json(&request)?)?;
    let now = Utc::now();
    let station = Station {
        id: joule_sdk::ids::time_ordered(),
        name: new.name,
        location: new.location,
        address: new.address,
        time_zone: new.time_zone,
        tariff_id: new.tariff_id,
        connectors: new.connectors.into_iter().map(|c| connector(c, INITIAL_STATUS)).collect(),
        created_at: now,
        updated_at: now,
    };
    store::insert(&station)?;
    api::publish("station.created.v1", &station)?;
    let mut response = api::json(201, &station);
    response.set_header("location", format!("/api/v1/stations/{}", station.id));
    Ok(response)
}

pub fn list(request: Request, _: Params) -> Result {
    let mut problems = Problems::new();
    let page = Page::from_query(&api::query_params(&request)?, &mut problems);
    problems.finish()?;
    let (stations, more) = store::list(&page)?;
    let next_cursor = more.then(|| stations.last().map(|s| Page::cursor_after(&s.id.to_string()))).flatten();
    Ok(api::json(200, &json!({ "items": stations, "nextCursor": next_cursor })))
}

pub fn get(_: Request, params: Params) -> Result {
    Ok(api::json(200, &existing(&params)?))
}

pub fn update(request: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let patch = input::station_patch(&api::read_json(&request)?)?;
    let mut station = claimed(&params)?;
    station.name = patch.name.unwrap_or(station.name);
    station.location = patch.location.unwrap_or(station.location);
    station.address = patch.address.unwrap_or(station.address);
    station.time_zone = patch.time_zone.unwrap_or(station.time_zone);
    station.tariff_id = patch.tariff_id.unwrap_or(station.tariff_id);
    let connectors_changed = patch.connectors.is_some();
    if let Some(connectors) = patch.connectors {
        // A connector that stays keeps its status; a new one starts available.
        let status_of = |id: &str| {
            station.connectors.iter().find(|c| c.connector_id == id).map_or(INITIAL_STATUS.to_string(), |c| c.status.clone())
        };
        let statuses: Vec<String> = connectors.iter().map(|c| status_of(&c.connector_id)).collect();
        station.connectors = connectors.into_iter().zip(statuses).map(|(c, status)| connector(c, &status)).collect();
    }
    station.updated_at = Utc::now();
    store::update(&station, connectors_changed)?;
    api::publish("station.updated.v1", &station)?;
    Ok(api::json(200, &station))
}

pub fn delete(_: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let id = station_id(&params)?;
    if !store::delete(id)? {
        return Err(ApiError::not_found("station", &id.to_string()));
    }
    api::publish("station.removed.v1", &json!({ "id": id, "removedAt": Utc::now() }))?;
    Ok(api::no_content())
}

pub fn set_connector_status(request: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let status = input::connector_status(&api::read_json(&request)?)?;
    let station = claimed(&params)?;
    let connector_id = params.get("connector_id").unwrap_or_default();
    let Some(mut connector) = station.connectors.into_iter().find(|c| c.connector_id == connector_id) else {
        return Err(ApiError::not_found("connector", connector_id));
    };
    let changed_at = Utc::now();
    store::set_status(station.id, connector_id, &status, changed_at)?;
    let previous = std::mem::replace(&mut connector.status, status);
    api::publish(
        "station.status-changed.v1",
        &json!({
            "stationId": station.id,
            "connectorId": connector.connector_id,
            "status": connector.status,
            "previousStatus": previous,
            "changedAt": changed_at,
        }),
    )?;
    Ok(api::json(200, &connector))
}

/// An id that is not a UUID names no station: 404, like any unknown id.
fn station_id(params: &Params) -> Result<Uuid> {
    let raw = params.get("id").unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("station", raw))
}

fn existing(params: &Params) -> Result<Station> {
    let id = station_id(params)?;
    store::find(id)?.ok_or_else(|| ApiError::not_found("station", &id.to_string()))
}

/// The station, read after taking its turn (see [`store::claim`]).
fn claimed(params: &Params) -> Result<Station> {
    let id = station_id(params)?;
    if !store::claim(id)? {
        return Err(ApiError::not_found("station", &id.to_string()));
    }
    existing(params)
}

fn connector(new: NewConnector, status: &str) -> Connector {
    Connector { connector_id: new.connector_id, kind: new.kind, max_power_kw: new.max_power_kw, status: status.to_string() }
}
