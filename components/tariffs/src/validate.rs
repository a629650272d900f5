//! Checking a tariff field by field, so one 422 names every problem.
//!
//! Every field is bounded (see `ocpi_tariff::limits`): the pricing rule can price any tariff
//! accepted here, and the largest one's `tariff.created.v1` event stays well inside the
//! platform's 256 KiB event limit.

use chrono::{NaiveDate, NaiveTime};
use joule_sdk::api::{ApiError, Problems, Reader, timestamp};
use ocpi_tariff::limits::{
    MAX_DAYS, MAX_ELEMENTS, MAX_PRICE_COMPONENTS, MAX_SESSION_SECONDS, MAX_STEP_SIZE, max_kwh, max_power_kw, max_price,
    max_vat,
};
use rust_decimal::Decimal;
use serde_json::Value;

/// The pricing rule a tariff uses when it names none.
pub const DEFAULT_RULE: &str = "ocpi";

const MAX_NAME: usize = 200;
const MAX_RULE: usize = 48;
/// `ruleOptions` are the rule's to read, so only their size is checked here, as JSON.
pub const MAX_RULE_OPTIONS_BYTES: usize = 4096;

const TARIFF_FIELDS: [&str; 9] =
    ["name", "currency", "rule", "ruleOptions", "elements", "minPrice", "maxPrice", "startDateTime", "endDateTime"];
const DIMENSIONS: [&str; 4] = ["ENERGY", "FLAT", "PARKING_TIME", "TIME"];
const DAYS: [&str; 7] = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];
const RESTRICTIONS: [&str; 11] = [
    "startTime", "endTime", "startDate", "endDate", "minKwh", "maxKwh", "minPower", "maxPower", "minDuration",
    "maxDuration", "dayOfWeek",
];

/// Checks a tariff body; returns it with the rule filled in.
pub fn tariff(body: &Value) -> Result<Value, ApiError> {
    let mut problems = Problems::new();
    tariff_into(body, "", &mut problems);
    problems.finish()?;
    let mut tariff = body.clone();
    if tariff.get("rule").is_none_or(Value::is_null) {
        tariff["rule"] = Value::from(DEFAULT_RULE);
    }
    Ok(tariff)
}

/// Checks a tariff nested at `prefix` (empty at the top), recording problems.
pub fn tariff_into(body: &Value, prefix: &str, problems: &mut Problems) {
    let at = |path: String| if prefix.is_empty() { path } else { format!("{prefix}.{path}") };
    let mut local = Problems::new();
    let reader = Reader::body(body, &mut local);
    reader.only(&TARIFF_FIELDS, &mut local);
    reader.optional_string("name", MAX_NAME, &mut local);
    if let Some(currency) = reader.string("currency", 3, &mut local)
        && !(currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()))
    {
        local.add("currency", "must be an ISO 4217 code such as \"EUR\"");
    }
    if let Some(Some(rule)) = reader.optional_string("rule", MAX_RULE, &mut local)
        && !rule.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        local.add("rule", "must name a pricing rule, such as \"ocpi\"");
    }
    if reader.object("ruleOptions", false, &mut local).is_some()
        && body["ruleOptions"].to_string().len() > MAX_RULE_OPTIONS_BYTES
    {
        local.add("ruleOptions", format!("must be at most {MAX_RULE_OPTIONS_BYTES} bytes of JSON"));
    }
    match reader.objects("elements", true, MAX_ELEMENTS, &mut local) {
        Some(elements) if elements.is_empty() => local.add("elements", "must list at least one element"),
        Some(elements) => elements.iter().for_each(|element| check_element(element, &mut local)),
        None => {}
    }
    for key in ["minPrice", "maxPrice"] {
        if let Some(price) = reader.object(key, false, &mut local) {
            price.only(&["exclVat", "inclVat"], &mut local);
            if price.optional_decimal("exclVat", Decimal::ZERO, max_price(), &mut local) == Some(None) {
                local.add(price.path("exclVat"), "is required");
            }
            price.optional_decimal("inclVat", Decimal::ZERO, max_price(), &mut local);
        }
    }
    for key in ["startDateTime", "endDateTime"] {
        if let Some(Some(text)) = reader.optional_string(key, 40, &mut local)
            && let Err(problem) = timestamp::parse(&text)
        {
            local.add(key, problem);
        }
    }
    for (field, problem) in local.into_fields() {
        problems.add(at(field), problem);
    }
}

fn check_element(element: &Reader<'_>, problems: &mut Problems) {
    element.only(&["priceComponents", "restrictions"], problems);
    match element.objects("priceComponents", true, MAX_PRICE_COMPONENTS, problems) {
        Some(components) if components.is_empty() => problems.add(element.path("priceComponents"), "must list at least one"),
        Some(components) => components.iter().for_each(|component| check_component(component, problems)),
        None => {}
    }
    if let Some(restrictions) = element.object("restrictions", false, problems) {
        check_restrictions(&restrictions, problems);
    }
}

fn check_component(component: &Reader<'_>, problems: &mut Problems) {
    component.only(&["type", "price", "vat", "stepSize"], problems);
    if let Some(dimension) = component.string("type", 16, problems)
        && !DIMENSIONS.contains(&dimension.as_str())
    {
        problems.add(component.path("type"), format!("must be one of {}", DIMENSIONS.join(", ")));
    }
    if component.optional_decimal("price", Decimal::ZERO, max_price(), problems) == Some(None) {
        problems.add(component.path("price"), "is required");
    }
    component.optional_decimal("vat", Decimal::ZERO, max_vat(), problems);
    component.optional_whole("stepSize", 1, MAX_STEP_SIZE, problems);
}

fn check_restrictions(restrictions: &Reader<'_>, problems: &mut Problems) {
    restrictions.only(&RESTRICTIONS, problems);
    for key in ["startTime", "endTime"] {
        if let Some(Some(time)) = restrictions.optional_string(key, 5, problems)
            && !(shaped(&time, "00:00") && NaiveTime::parse_from_str(&time, "%H:%M").is_ok())
        {
            problems.add(restrictions.path(key), "must be a time such as \"17:30\"");
        }
    }
    for key in ["startDate", "endDate"] {
        if let Some(Some(date)) = restrictions.optional_string(key, 10, problems)
            && !(shaped(&date, "0000-00-00") && NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_ok())
        {
            problems.add(restrictions.path(key), "must be a date such as \"2026-11-22\"");
        }
    }
    for key in ["minKwh", "maxKwh"] {
        restrictions.optional_decimal(key, Decimal::ZERO, max_kwh(), problems);
    }
    for key in ["minPower", "maxPower"] {
        restrictions.optional_decimal(key, Decimal::ZERO, max_power_kw(), problems);
    }
    for key in ["minDuration", "maxDuration"] {
        restrictions.optional_whole(key, 0, MAX_SESSION_SECONDS, problems);
    }
    if let Some(days) = restrictions.strings("dayOfWeek", MAX_DAYS, 9, problems)
        && days.iter().any(|d| !DAYS.contains(&d.as_str()))
    {
        problems.add(restrictions.path("dayOfWeek"), format!("must list days from {}", DAYS.join(", ")));
    }
}

/// Whether `text` has exactly the shape given, each '0' a digit: chrono alone also reads
/// "9:0" as 09:00 and "+2026-1-1" as a date.
fn shaped(text: &str, shape: &str) -> bool {
    text.len() == shape.len()
        && text.bytes().zip(shape.bytes()).all(|(c, s)| if s == b'0' { c.is_ascii_digit() } else { c == s })
}

#[cfg(test)]
mod tests;
