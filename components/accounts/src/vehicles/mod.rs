//! The caller's vehicles: `/me/vehicles`. A plate (`regnum`) is unique within an account;
//! the events name it, since parking bills a stay to the driver whose vehicle has the plate.

mod input;
pub mod store;

use chrono::{DateTime, Utc};
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError};
use serde::Serialize;
use serde_json::json;
use spin_sdk::http::{Params, Request};
use uuid::Uuid;

use crate::Result;
use crate::profile;

/// The most vehicles one account keeps: a household or a small fleet.
const MAX_VEHICLES: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vehicle {
    pub id: Uuid,
    #[serde(skip)]
    pub subject: String,
    pub make: String,
    pub model: String,
    pub regnum: String,
    pub connector_types: Vec<String>,
    pub battery_kwh: Option<f64>,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub updated_at: DateTime<Utc>,
}

pub fn list(_: Request, _: Params) -> Result {
    let caller = Caller::require()?;
    profile::store::ensure(caller.subject(), Utc::now())?;
    Ok(api::json(200, &json!({ "items": store::list(caller.subject())? })))
}

pub fn create(request: Request, _: Params) -> Result {
    let caller = Caller::require()?;
    let new = input::new_vehicle(&api::read_json(&request)?)?;
    let now = Utc::now();
    profile::store::claim(caller.subject(), now)?;
    if store::count(caller.subject())? >= MAX_VEHICLES {
        return Err(ApiError::conflict(
            "too_many_vehicles",
            format!("an account keeps at most {MAX_VEHICLES} vehicles"),
        ));
    }
    let vehicle = Vehicle {
        id: joule_sdk::ids::time_ordered(),
        subject: caller.subject().to_string(),
        make: new.make,
        model: new.model,
        regnum: new.regnum,
        connector_types: new.connector_types,
        battery_kwh: new.battery_kwh,
        created_at: now,
        updated_at: now,
    };
    if !store::insert(&vehicle)? {
        return Err(regnum_taken(&vehicle.regnum));
    }
    api::publish("vehicle.registered.v1", &event(&vehicle))?;
    let mut response = api::json(201, &vehicle);
    response.set_header("location", format!("/api/v1/me/vehicles/{}", vehicle.id));
    Ok(response)
}

pub fn get(_: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    profile::store::ensure(caller.subject(), Utc::now())?;
    Ok(api::json(200, &owned(&caller, &params)?))
}

pub fn update(request: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    let patch = input::vehicle_patch(&api::read_json(&request)?)?;
    profile::store::claim(caller.subject(), Utc::now())?;
    let mut vehicle = owned(&caller, &params)?;
    if let Some(regnum) = &patch.regnum
        && *regnum != vehicle.regnum
        && store::regnum_taken(caller.subject(), regnum)?
    {
        return Err(regnum_taken(regnum));
    }
    let changed = patch.apply(&mut vehicle);
    if changed.is_empty() {
        return Ok(api::json(200, &vehicle));
    }
    vehicle.updated_at = Utc::now();
    store::update(&vehicle)?;
    let mut event = event(&vehicle);
    event["changed"] = json!(changed);
    api::publish("vehicle.updated.v1", &event)?;
    Ok(api::json(200, &vehicle))
}

pub fn delete(_: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    profile::store::claim(caller.subject(), Utc::now())?;
    let vehicle = owned(&caller, &params)?;
    store::delete(vehicle.id)?;
    api::publish("vehicle.removed.v1", &event(&vehicle))?;
    Ok(api::no_content())
}

/// The caller's vehicle named in the path. Another account's vehicle is a 404, as an
/// unknown id is, so nothing is learnt of other accounts.
fn owned(caller: &Caller, params: &Params) -> Result<Vehicle> {
    let raw = params.get("id").unwrap_or_default();
    let not_found = || ApiError::not_found("vehicle", raw);
    let id = Uuid::parse_str(raw).map_err(|_| not_found())?;
    store::find(id)?.filter(|vehicle| vehicle.subject == caller.subject()).ok_or_else(not_found)
}

/// What the vehicle events carry: who, which vehicle, and its plate.
fn event(vehicle: &Vehicle) -> serde_json::Value {
    json!({ "subject": vehicle.subject, "vehicleId": vehicle.id, "regnum": vehicle.regnum })
}

fn regnum_taken(regnum: &str) -> ApiError {
    ApiError::conflict("regnum_taken", format!("another vehicle of this account has the plate {regnum:?}"))
        .with_details(json!({ "regnum": regnum }))
}
