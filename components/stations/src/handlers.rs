//! The stations API under `/api/v1/stations`.

use chrono::Utc;
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Page, Problems};
use joule_sdk::db;
use serde_json::json;
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::input::{self, NewConnector};
use crate::ocpp_input::{self, OcppConfig};
use crate::station::{Connector, INITIAL_STATUS, Ocpp, Station};
use crate::{calls, charge_points, password, store};

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
        connectors: new.connectors.into_iter().map(|c| connector(c, INITIAL_STATUS, None)).collect(),
        ocpp: new.ocpp.map(|c| Ocpp::configured(c.charge_point_id, c.protocol)),
        created_at: now,
        updated_at: now,
    };
    // No read first: the insert is the first statement, so concurrent creates never find
    // their read overtaken (the embedded backend's conflict); the unique charge point id
    // refuses a taken one.
    store::insert(&station).map_err(|e| unless_taken(e, station.ocpp.as_ref()))?;
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
        // A connector that stays keeps its statuses; a new one starts available.
        let status_of = |id: &str| {
            let kept = station.connectors.iter().find(|c| c.connector_id == id);
            kept.map_or((INITIAL_STATUS.to_string(), None), |c| (c.status.clone(), c.ocpp_status.clone()))
        };
        let statuses: Vec<_> = connectors.iter().map(|c| status_of(&c.connector_id)).collect();
        station.connectors =
            connectors.into_iter().zip(statuses).map(|(c, (status, ocpp))| connector(c, &status, ocpp)).collect();
    }
    let ocpp_before = station.ocpp.clone();
    let ocpp_changed = patch.ocpp.is_some();
    if let Some(config) = patch.ocpp {
        station.ocpp = config.map(|config| reconfigured(ocpp_before.as_ref(), config));
        ensure_free(station.id, station.ocpp.as_ref())?;
    }
    station.updated_at = Utc::now();
    store::update(&station, connectors_changed)?;
    if ocpp_changed {
        charge_points::replace(station.id, ocpp_before.as_ref(), station.ocpp.as_ref())
            .map_err(|e| unless_taken(e, station.ocpp.as_ref()))?;
    }
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
    calls::availability_changed(station.id, &connector.connector_id, &previous, &connector.status)?;
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

/// `POST /stations/{id}/status-refresh`: asks the station's charge point to report its
/// connectors' statuses again (TriggerMessage); they arrive as its StatusNotifications.
pub fn refresh_status(_: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let station = claimed(&params)?;
    let request_id = calls::refresh_status(station.id)?;
    Ok(api::json(202, &json!({ "requestId": request_id })))
}

/// `PUT /stations/{id}/ocpp-password`: sets the password the station's charge point connects
/// with. Nothing is published: it is a secret, and the station JSON shows only `passwordSet`.
pub fn set_ocpp_password(request: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let secret = ocpp_input::password(&api::read_json(&request)?)?;
    // Hashed before the station's turn is taken, so its row is not held while Argon2 runs.
    let hash = password::hash(&secret).map_err(|e| {
        eprintln!("hashing a charge point password failed: {e}");
        ApiError::new(500, "internal_error", "the password could not be stored")
    })?;
    let station = claimed(&params)?;
    if !charge_points::set_password(station.id, &hash, Utc::now())? {
        return Err(ApiError::new(
            422,
            "ocpp_not_configured",
            "the station has no OCPP charge point: set ocpp.chargePointId first (PATCH /api/v1/stations/{id})",
        ));
    }
    Ok(api::no_content())
}

/// A station's charge point after `config`: the same charge point keeps what is known of it,
/// another starts with nothing (no password, no boot).
fn reconfigured(current: Option<&Ocpp>, config: OcppConfig) -> Ocpp {
    match current {
        Some(current) if current.charge_point_id == config.charge_point_id => {
            Ocpp { protocol: config.protocol, ..current.clone() }
        }
        _ => Ocpp::configured(config.charge_point_id, config.protocol),
    }
}

/// 409 when another station already has the charge point.
fn ensure_free(station_id: Uuid, ocpp: Option<&Ocpp>) -> Result<()> {
    let Some(ocpp) = ocpp else { return Ok(()) };
    match charge_points::owner(&ocpp.charge_point_id)? {
        Some(owner) if owner != station_id => Err(taken(&ocpp.charge_point_id)),
        _ => Ok(()),
    }
}

/// A unique violation where a charge point was written: another station took it meanwhile.
fn unless_taken(error: db::Error, ocpp: Option<&Ocpp>) -> ApiError {
    match (error, ocpp) {
        (db::Error::ConstraintViolation(_), Some(ocpp)) => taken(&ocpp.charge_point_id),
        (error, _) => error.into(),
    }
}

fn taken(charge_point_id: &str) -> ApiError {
    let message = format!("another station already has the charge point {charge_point_id:?}");
    ApiError::conflict("charge_point_taken", message)
        .with_details(json!({ "ocpp.chargePointId": "is another station's charge point" }))
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

fn connector(new: NewConnector, status: &str, ocpp_status: Option<String>) -> Connector {
    Connector {
        connector_id: new.connector_id,
        kind: new.kind,
        max_power_kw: new.max_power_kw,
        status: status.to_string(),
        ocpp_status,
    }
}
