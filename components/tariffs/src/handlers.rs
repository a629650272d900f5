//! `/api/v1/tariffs` and `/api/v1/pricing/quote`.

use chrono::Utc;
use joule_sdk::access::Caller;
use joule_sdk::api::{self, ApiError, Problems, Reader};
use joule_sdk::pricing::{self, ChargingPeriod, Error as PricingError, QuoteInput, SessionUsage};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::{session, store, validate};

type Result<T = Response> = std::result::Result<T, ApiError>;

/// A tariff must name a rule that is deployed: one that is not could price no session, and
/// every session started on it would find no rule version to pin.
fn deployed(tariff: &Value) -> Result<()> {
    let rule = tariff["rule"].as_str().unwrap_or(validate::DEFAULT_RULE);
    match pricing::rule_version(rule) {
        Ok(_) => Ok(()),
        Err(PricingError::RuleUnavailable(why)) => Err(Problems::one("rule", &why)),
        Err(error) => {
            eprintln!("the pricing rule {rule:?} could not be checked: {error:?}");
            Err(ApiError::new(503, "temporarily_unavailable", "the pricing rule could not be checked; retry"))
        }
    }
}

pub fn create(request: Request, _: Params) -> Result {
    Caller::require_operator()?;
    let mut tariff = validate::tariff(&api::read_json(&request)?)?;
    deployed(&tariff)?;
    let (id, created_at) = (joule_sdk::ids::time_ordered(), Utc::now());
    tariff["id"] = json!(id);
    tariff["version"] = json!(1);
    tariff["createdAt"] = json!(api::time(created_at));
    store::insert(id, 1, &tariff, created_at)?;
    api::publish("tariff.created.v1", &tariff)?;
    let mut response = api::json(201, &tariff);
    response.set_header("location", format!("/api/v1/tariffs/{id}"));
    Ok(response)
}

pub fn get(request: Request, params: Params) -> Result {
    let id = tariff_id(&params)?;
    let mut problems = Problems::new();
    let mut version = None;
    for (name, value) in api::query_params(&request)? {
        if name == "version" {
            // Versions are stored as 32-bit integers.
            match value.parse::<i64>() {
                Ok(v) if (1..=i64::from(i32::MAX)).contains(&v) => version = Some(v),
                _ => problems.add("version", format!("must be a whole number from 1 to {}", i32::MAX)),
            }
        }
    }
    problems.finish()?;
    let tariff = store::find(id, version)?.ok_or_else(|| ApiError::not_found("tariff", &id.to_string()))?;
    Ok(api::json(200, &tariff))
}

/// Writes a new version; earlier ones stay, so sessions priced with them can be again.
pub fn update(request: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let id = tariff_id(&params)?;
    let mut tariff = validate::tariff(&api::read_json(&request)?)?;
    deployed(&tariff)?;
    let version = store::latest_version(id)?.ok_or_else(|| ApiError::not_found("tariff", &id.to_string()))? + 1;
    let created_at = Utc::now();
    tariff["id"] = json!(id);
    tariff["version"] = json!(version);
    tariff["createdAt"] = json!(api::time(created_at));
    store::insert(id, version, &tariff, created_at)?;
    api::publish("tariff.updated.v1", &tariff)?;
    Ok(api::json(200, &tariff))
}

/// Prices a session with a stored tariff (`tariffId`) or one given inline (`tariff`).
pub fn quote(request: Request, _: Params) -> Result {
    let body = api::read_json(&request)?;
    let mut problems = Problems::new();
    let reader = Reader::body(&body, &mut problems);
    reader.only(&["tariffId", "tariff", "session"], &mut problems);
    let tariff = match (body.get("tariffId"), body.get("tariff")) {
        (Some(_), Some(_)) | (None, None) => {
            problems.add("tariffId", "give either tariffId or tariff");
            None
        }
        (Some(Value::String(id)), None) => match Uuid::parse_str(id) {
            Ok(id) => match store::find(id, None)? {
                Some(tariff) => Some(tariff),
                None => {
                    problems.add("tariffId", "names no tariff");
                    None
                }
            },
            Err(_) => {
                problems.add("tariffId", "names no tariff");
                None
            }
        },
        (Some(_), None) => {
            problems.add("tariffId", "must be a string");
            None
        }
        (None, Some(tariff)) => {
            validate::tariff_into(tariff, "tariff", &mut problems);
            Some(tariff.clone())
        }
    };
    let session = session::read(&reader, &mut problems);
    problems.finish()?;
    let (tariff, session) = (tariff.expect("checked"), session.expect("checked"));
    let rule = tariff["rule"].as_str().unwrap_or(validate::DEFAULT_RULE).to_string();
    let input = QuoteInput {
        tariff: tariff.to_string(),
        session: SessionUsage {
            started_at: session.started_at,
            charging_ended_at: session.charging_ended_at,
            unplugged_at: session.unplugged_at,
            time_zone: session.time_zone,
            periods: session
                .periods
                .into_iter()
                .map(|(starts_at, ends_at, energy_wh)| ChargingPeriod { starts_at, ends_at, energy_wh })
                .collect(),
        },
    };
    let quote = pricing::quote(&rule, None, &input).map_err(pricing_error)?;
    let breakdown = quote.breakdown;
    Ok(api::json(
        200,
        &json!({
            "currency": breakdown.currency,
            "lines": breakdown.lines.iter().map(|l| json!({
                "dimension": l.dimension,
                "volume": l.volume,
                "amountExclVat": l.amount_excl_vat,
                "vatPercent": l.vat_percent,
                "amountInclVat": l.amount_incl_vat,
            })).collect::<Vec<_>>(),
            "totalExclVat": breakdown.total_excl_vat,
            "totalInclVat": breakdown.total_incl_vat,
            "rule": rule,
            "ruleVersion": quote.rule_version,
        }),
    ))
}

/// The caller's tariff or session is wrong: 422. The rule itself failed: 502.
fn pricing_error(error: PricingError) -> ApiError {
    let unprocessable = |field: &str, why: String| {
        ApiError::new(422, "validation_failed", "the session cannot be priced with this tariff")
            .with_details(json!({ field: why }))
    };
    match error {
        PricingError::InvalidTariff(why) => unprocessable("tariff", why),
        PricingError::InvalidSession(why) => unprocessable("session", why),
        PricingError::RuleUnavailable(why) => unprocessable("tariff.rule", why),
        PricingError::RuleFailed(why) => {
            eprintln!("pricing rule failed: {why}");
            ApiError::new(502, "pricing_failed", "the pricing rule failed")
        }
    }
}

fn tariff_id(params: &Params) -> Result<Uuid> {
    let raw = params.get("id").unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("tariff", raw))
}
