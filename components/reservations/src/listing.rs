//! Lists of a driver's things, oldest first, a page at a time: a driver sees their own; an
//! operator the named driver's (`?driverId=`) or everyone's.

use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Page, Problems};
use joule_sdk::db::{self, Row};
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};
use uuid::Uuid;

/// The page of `table` (which has `id` and `driver_id` columns) the request asks for, each
/// row shown by `show`.
pub fn page(
    request: &Request,
    table: &str,
    columns: &str,
    show: impl Fn(Row<'_>) -> Result<Value, db::Error>,
) -> Result<Response, ApiError> {
    let caller = Caller::require()?;
    let params = api::query_params(request)?;
    let mut problems = Problems::new();
    let page = Page::from_query(&params, &mut problems);
    problems.finish()?;
    let named = params.iter().find(|(k, _)| k == "driverId").map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let driver = caller.listing(named)?;
    let after = page.after.as_deref().and_then(|a| Uuid::parse_str(a).ok()).unwrap_or(Uuid::nil());
    let limit = i64::from(page.limit) + 1;
    let rows = match &driver {
        Some(driver) => db::query(
            &format!("SELECT {columns} FROM {table} WHERE driver_id = $1 AND id > $2 ORDER BY id LIMIT $3"),
            &[driver, &after, &limit],
        )?,
        None => db::query(&format!("SELECT {columns} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"), &[&after, &limit])?,
    };
    let mut items = rows.iter().map(show).collect::<Result<Vec<_>, _>>()?;
    let more = items.len() > page.limit as usize;
    items.truncate(page.limit as usize);
    let next = more.then(|| items.last().and_then(|item| item["id"].as_str()).map(Page::cursor_after)).flatten();
    Ok(api::json(200, &json!({ "items": items, "nextCursor": next })))
}
