//! Parking lots: `POST /parking/lots` defines one with its slots, `GET /parking/lots` lists
//! them (without their slots, which may number thousands), and `GET /parking/lots/{id}`
//! shows one with each slot and who is in it.

mod input;

use chrono::Utc;
use joule_sdk::access::Caller;
use joule_sdk::api::{self, Page, Problems};
use serde_json::json;
use spin_sdk::http::{Params, Request};

use crate::lot::{Lot, LotWithSlots, levels};
use crate::{Result, store};

pub fn create(request: Request, _: Params) -> Result {
    Caller::require_operator()?;
    let new = input::new_lot(&api::read_json(&request)?)?;
    let lot = Lot {
        id: joule_sdk::ids::time_ordered(),
        name: new.name,
        time_zone: new.time_zone,
        tariff_id: new.tariff_id,
        free_minutes: new.free_minutes,
        default_account: new.default_account,
        levels: levels(&new.slots),
        total_slots: u32::try_from(new.slots.len()).expect("at most input::MAX_SLOTS"),
        created_at: Utc::now(),
    };
    store::insert_lot(&lot, &new.slots)?;
    let mut response = api::json(201, &LotWithSlots { lot: &lot, slots: &new.slots });
    response.set_header("location", format!("/api/v1/parking/lots/{}", lot.id));
    Ok(response)
}

pub fn list(request: Request, _: Params) -> Result {
    Caller::require_operator()?;
    let mut problems = Problems::new();
    let page = Page::from_query(&api::query_params(&request)?, &mut problems);
    problems.finish()?;
    let (lots, more) = store::list_lots(&page)?;
    let next_cursor = more.then(|| lots.last().map(|lot| Page::cursor_after(&lot.id.to_string()))).flatten();
    Ok(api::json(200, &json!({ "items": lots, "nextCursor": next_cursor })))
}

pub fn get(_: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let lot_id = crate::lot_id(&params)?;
    let lot = store::find_lot(lot_id)?.ok_or_else(|| crate::no_lot(lot_id))?;
    let slots = store::slots(lot_id)?;
    Ok(api::json(200, &LotWithSlots { lot: &lot, slots: &slots }))
}
