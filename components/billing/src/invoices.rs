//! `/api/v1/invoices`: reading invoices, and paying them through the payment stub.

use chrono::{DateTime, Utc};
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Page, Problems, Reader};
use joule_sdk::db::{self, Row};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::payments;

type Result<T = Response> = std::result::Result<T, ApiError>;

const COLUMNS: &str = "id, kind, session_id, stay_id, lot_id, regnum, unassigned, driver_id, currency, lines, total_excl_vat, total_incl_vat, status, \
                       tariff_id, tariff_version, rule, rule_version, payment_reference, created_at, paid_at";

fn time(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(api::time)
}

fn invoice(row: Row<'_>) -> std::result::Result<Value, db::Error> {
    Ok(json!({
        "id": row.get::<Uuid>("id")?,
        "kind": row.get::<String>("kind")?,
        "sessionId": row.get::<Option<Uuid>>("session_id")?,
        "stayId": row.get::<Option<Uuid>>("stay_id")?,
        "lotId": row.get::<Option<Uuid>>("lot_id")?,
        "regnum": row.get::<Option<String>>("regnum")?,
        "unassigned": row.get::<bool>("unassigned")?,
        "driverId": row.get::<Option<String>>("driver_id")?,
        "currency": row.get::<String>("currency")?,
        "lines": row.get::<Value>("lines")?,
        "totalExclVat": row.get::<String>("total_excl_vat")?,
        "totalInclVat": row.get::<Option<String>>("total_incl_vat")?,
        "status": row.get::<String>("status")?,
        "tariffId": row.get::<String>("tariff_id")?,
        "tariffVersion": row.get::<i64>("tariff_version")?,
        "rule": row.get::<String>("rule")?,
        "ruleVersion": row.get::<i64>("rule_version")?,
        "paymentReference": row.get::<Option<String>>("payment_reference")?,
        "createdAt": time(row.get("created_at")?),
        "paidAt": time(row.get("paid_at")?),
    }))
}

pub fn find(id: Uuid) -> std::result::Result<Option<Value>, db::Error> {
    let rows = db::query(&format!("SELECT {COLUMNS} FROM invoices WHERE id = $1"), &[&id])?;
    rows.first().map(invoice).transpose()
}

pub fn get(_: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    Ok(api::json(200, &visible(&caller, invoice_id(&params)?)?))
}

/// The invoice, if the caller may see it: another driver's is as unknown as a missing one.
fn visible(caller: &Caller, id: Uuid) -> Result<Value> {
    caller.visible(find(id)?, |i| i["driverId"].as_str().unwrap_or_default(), "invoice", &id.to_string())
}

/// Which invoices a listing asks for.
enum Filter {
    Session(Uuid),
    Stay(Uuid),
    Driver(String),
    Everyone,
}

/// Invoices of one session (`?sessionId=`), one parking stay (`?stayId=`) or one driver
/// (`?driverId=`), oldest first. A driver sees only their own; an operator naming none
/// sees everyone's.
pub fn list(request: Request, _: Params) -> Result {
    let caller = Caller::require()?;
    let params = api::query_params(&request)?;
    let mut problems = Problems::new();
    let page = Page::from_query(&params, &mut problems);
    let value = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let filter = match (value("sessionId"), value("stayId"), value("driverId")) {
        // An id that is not a UUID names no session or stay: an empty list, like any unknown id.
        (Some(session), None, None) => Uuid::parse_str(&session).ok().map(Filter::Session),
        (None, Some(stay), None) => Uuid::parse_str(&stay).ok().map(Filter::Stay),
        (None, None, driver) => Some(caller.listing(driver.as_deref())?.map_or(Filter::Everyone, Filter::Driver)),
        _ => {
            problems.add("sessionId", "give one of sessionId, stayId or driverId");
            None
        }
    };
    problems.finish()?;
    let Some(filter) = filter else { return Ok(api::json(200, &json!({ "items": [], "nextCursor": null }))) };
    let after = page.after.as_deref().and_then(|a| Uuid::parse_str(a).ok()).unwrap_or(Uuid::nil());
    let limit = i64::from(page.limit) + 1;
    let page_of = |column: &str| format!("SELECT {COLUMNS} FROM invoices WHERE {column} = $1 AND id > $2 ORDER BY id LIMIT $3");
    let rows = match &filter {
        Filter::Session(id) => db::query(&page_of("session_id"), &[id, &after, &limit])?,
        Filter::Stay(id) => db::query(&page_of("stay_id"), &[id, &after, &limit])?,
        Filter::Driver(driver) => db::query(&page_of("driver_id"), &[driver, &after, &limit])?,
        Filter::Everyone => db::query(&format!("SELECT {COLUMNS} FROM invoices WHERE id > $1 ORDER BY id LIMIT $2"), &[&after, &limit])?,
    };
    let mut items = rows.iter().map(invoice).collect::<std::result::Result<Vec<_>, _>>()?;
    // A session or stay is one driver's, so its invoices are all theirs or all someone else's.
    items.retain(|invoice| caller.may_access(invoice["driverId"].as_str().unwrap_or_default()));
    let more = items.len() > page.limit as usize;
    items.truncate(page.limit as usize);
    let next = more.then(|| items.last().and_then(|i| i["id"].as_str()).map(Page::cursor_after)).flatten();
    Ok(api::json(200, &json!({ "items": items, "nextCursor": next })))
}

/// Pays an open invoice through the payment stub; `{"simulate": "fail"}` makes it fail.
pub fn pay(request: Request, params: Params) -> Result {
    let caller = Caller::require()?;
    let id = invoice_id(&params)?;
    let body = if request.body().is_empty() { json!({}) } else { api::read_json(&request)? };
    let mut problems = Problems::new();
    let reader = Reader::body(&body, &mut problems);
    reader.only(&["simulate"], &mut problems);
    let simulate = reader.optional_string("simulate", 16, &mut problems).flatten();
    if simulate.as_deref().is_some_and(|s| s != "fail") {
        problems.add("simulate", "may only be \"fail\"");
    }
    problems.finish()?;
    let found = visible(&caller, id)?;
    if found["status"] != "open" {
        return Err(ApiError::conflict("invoice_not_open", "the invoice is already paid"));
    }
    let mut payment = json!({
        "invoiceId": id,
        "driverId": found["driverId"],
        "currency": found["currency"],
        "amount": found["totalInclVat"].as_str().or(found["totalExclVat"].as_str()),
    });
    match payments::charge(&found, simulate.is_some()) {
        Ok(reference) => {
            let now = Utc::now();
            db::execute(
                "UPDATE invoices SET status = 'paid', payment_reference = $2, paid_at = $3 WHERE id = $1 AND status = 'open'",
                &[&id, &reference, &now],
            )?;
            payment["paymentReference"] = json!(reference);
            api::publish("payment.completed.v1", &payment)?;
            Ok(api::json(200, &find(id)?.expect("still there")))
        }
        Err(reason) => {
            payment["reason"] = json!(reason);
            api::publish("payment.failed.v1", &payment)?;
            // A 4xx still commits: the failure is recorded and its event goes out.
            Err(ApiError::new(402, "payment_failed", reason))
        }
    }
}

fn invoice_id(params: &Params) -> Result<Uuid> {
    let raw = params.get("id").unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("invoice", raw))
}
