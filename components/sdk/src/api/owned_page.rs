//! Lists of what belongs to someone (a driver's reservations, sessions, notifications), oldest
//! first, a page at a time: a driver sees their own; an operator the one named by a query
//! parameter, or everyone's.

use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};
use uuid::Uuid;

use super::{ApiError, Page, Problems};
use crate::access::Caller;
use crate::db::{self, Row};

/// Whose things a list holds: the column naming the owner, and the query parameter an
/// operator names one with.
pub struct Owner<'a> {
    pub column: &'a str,
    pub parameter: &'a str,
}

/// The page of `table` (keyed by a time-ordered `id`) the request asks for, each row shown
/// by `show`, as `{"items", "nextCursor"}`.
pub fn owned_page(
    request: &Request,
    table: &str,
    columns: &str,
    owner: Owner<'_>,
    show: impl Fn(Row<'_>) -> Result<Value, db::Error>,
) -> Result<Response, ApiError> {
    let caller = Caller::require()?;
    let params = super::query_params(request)?;
    let mut problems = Problems::new();
    let page = Page::from_query(&params, &mut problems);
    problems.finish()?;
    let named = params.iter().find(|(k, _)| k == owner.parameter).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let whose = caller.listing(named)?;
    let after = page.after.as_deref().and_then(|a| Uuid::parse_str(a).ok()).unwrap_or(Uuid::nil());
    let limit = i64::from(page.limit) + 1;
    let column = owner.column;
    let rows = match &whose {
        Some(whose) => db::query(
            &format!("SELECT {columns} FROM {table} WHERE {column} = $1 AND id > $2 ORDER BY id LIMIT $3"),
            &[whose, &after, &limit],
        )?,
        None => db::query(&format!("SELECT {columns} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"), &[&after, &limit])?,
    };
    let mut items = rows.iter().map(show).collect::<Result<Vec<_>, _>>()?;
    let more = items.len() > page.limit as usize;
    items.truncate(page.limit as usize);
    let next = more.then(|| items.last().and_then(|item| item["id"].as_str()).map(Page::cursor_after)).flatten();
    Ok(super::json(200, &json!({ "items": items, "nextCursor": next })))
}
