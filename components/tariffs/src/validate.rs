//! Checking a tariff and a quote's session field by field, so one 422 names every problem.

use chrono::{DateTime, NaiveDate, NaiveTime};
use joule_sdk::api::{ApiError, Problems, Reader};
use rust_decimal::Decimal;
use serde_json::Value;

/// The pricing rule a tariff uses when it names none.
pub const DEFAULT_RULE: &str = "ocpi";

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
    reader.optional_string("name", 200, &mut local);
    if let Some(currency) = reader.string("currency", 3, &mut local)
        && !(currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()))
    {
        local.add("currency", "must be an ISO 4217 code such as \"EUR\"");
    }
    if let Some(Some(rule)) = reader.optional_string("rule", 48, &mut local)
        && !rule.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        local.add("rule", "must name a pricing rule, such as \"ocpi\"");
    }
    reader.object("ruleOptions", false, &mut local);
    match reader.objects("elements", true, &mut local) {
        Some(elements) if elements.is_empty() => local.add("elements", "must list at least one element"),
        Some(elements) => elements.iter().for_each(|element| check_element(element, &mut local)),
        None => {}
    }
    for key in ["minPrice", "maxPrice"] {
        if let Some(price) = reader.object(key, false, &mut local) {
            price.only(&["exclVat", "inclVat"], &mut local);
            non_negative(&price, "exclVat", true, &mut local);
            non_negative(&price, "inclVat", false, &mut local);
        }
    }
    for key in ["startDateTime", "endDateTime"] {
        if let Some(Some(text)) = reader.optional_string(key, 40, &mut local)
            && DateTime::parse_from_rfc3339(&text).is_err()
        {
            local.add(key, "must be an RFC 3339 timestamp");
        }
    }
    for (field, problem) in local.into_fields() {
        problems.add(at(field), problem);
    }
}

fn non_negative(reader: &Reader<'_>, key: &str, required: bool, problems: &mut Problems) -> Option<Decimal> {
    match reader.optional_decimal(key, problems)? {
        None if required => {
            problems.add(reader.path(key), "is required");
            None
        }
        Some(value) if value < Decimal::ZERO => {
            problems.add(reader.path(key), "must not be negative");
            None
        }
        value => value,
    }
}

fn check_element(element: &Reader<'_>, problems: &mut Problems) {
    element.only(&["priceComponents", "restrictions"], problems);
    match element.objects("priceComponents", true, problems) {
        Some(components) if components.is_empty() => problems.add(element.path("priceComponents"), "must list at least one"),
        Some(components) => {
            for component in &components {
                component.only(&["type", "price", "vat", "stepSize"], problems);
                if let Some(dimension) = component.string("type", 16, problems)
                    && !DIMENSIONS.contains(&dimension.as_str())
                {
                    problems.add(component.path("type"), format!("must be one of {}", DIMENSIONS.join(", ")));
                }
                non_negative(component, "price", true, problems);
                if let Some(vat) = non_negative(component, "vat", false, problems)
                    && vat > Decimal::from(100)
                {
                    problems.add(component.path("vat"), "must be a percentage from 0 to 100");
                }
                component.optional_whole("stepSize", 1, problems);
            }
        }
        None => {}
    }
    let Some(restrictions) = element.object("restrictions", false, problems) else { return };
    restrictions.only(&RESTRICTIONS, problems);
    for key in ["startTime", "endTime"] {
        if let Some(Some(time)) = restrictions.optional_string(key, 5, problems)
            && NaiveTime::parse_from_str(&time, "%H:%M").is_err()
        {
            problems.add(restrictions.path(key), "must be a time such as \"17:30\"");
        }
    }
    for key in ["startDate", "endDate"] {
        if let Some(Some(date)) = restrictions.optional_string(key, 10, problems)
            && NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_err()
        {
            problems.add(restrictions.path(key), "must be a date such as \"2026-11-22\"");
        }
    }
    for key in ["minKwh", "maxKwh", "minPower", "maxPower"] {
        non_negative(&restrictions, key, false, problems);
    }
    for key in ["minDuration", "maxDuration"] {
        restrictions.optional_whole(key, 0, problems);
    }
    if let Some(days) = restrictions.strings("dayOfWeek", problems)
        && days.iter().any(|d| !DAYS.contains(&d.as_str()))
    {
        problems.add(restrictions.path("dayOfWeek"), format!("must list days from {}", DAYS.join(", ")));
    }
}

/// What a quote's session says, checked; times are RFC 3339.
pub struct QuoteSession {
    pub started_at: String,
    pub charging_ended_at: String,
    pub unplugged_at: String,
    pub time_zone: String,
    pub periods: Vec<(String, String, u64)>,
}

/// Checks the `session` of a quote request.
pub fn session(reader: &Reader<'_>, problems: &mut Problems) -> Option<QuoteSession> {
    let session = reader.object("session", true, problems)?;
    session.only(&["startedAt", "chargingEndedAt", "unpluggedAt", "timeZone", "periods"], problems);
    let timestamp = |key: &str, required: bool, problems: &mut Problems| -> Option<Option<String>> {
        let text = match session.optional_string(key, 40, problems)? {
            None if required => {
                problems.add(session.path(key), "is required");
                return None;
            }
            None => return Some(None),
            Some(text) => text,
        };
        if DateTime::parse_from_rfc3339(&text).is_err() {
            problems.add(session.path(key), "must be an RFC 3339 timestamp");
            return None;
        }
        Some(Some(text))
    };
    let started_at = timestamp("startedAt", true, problems).flatten();
    let charging_ended_at = timestamp("chargingEndedAt", false, problems);
    let unplugged_at = timestamp("unpluggedAt", false, problems);
    let time_zone = session.string("timeZone", 64, problems);
    if let Some(zone) = &time_zone
        && zone.parse::<chrono_tz::Tz>().is_err()
    {
        problems.add(session.path("timeZone"), "must be an IANA time zone such as \"Europe/Amsterdam\"");
    }
    let mut periods = Vec::new();
    for period in session.objects("periods", false, problems).unwrap_or_default() {
        period.only(&["startsAt", "endsAt", "energyWh"], problems);
        let starts = period.string("startsAt", 40, problems).filter(|t| DateTime::parse_from_rfc3339(t).is_ok());
        let ends = period.string("endsAt", 40, problems).filter(|t| DateTime::parse_from_rfc3339(t).is_ok());
        let energy = period.optional_whole("energyWh", 0, problems).flatten();
        match (starts, ends, energy) {
            (Some(starts), Some(ends), Some(energy)) => periods.push((starts, ends, energy)),
            (_, _, None) => problems.add(period.path("energyWh"), "is required"),
            _ => problems.add(period.path("startsAt"), "startsAt and endsAt must be RFC 3339 timestamps"),
        }
    }
    let started_at = started_at?;
    let charging_ended_at = charging_ended_at?.or_else(|| periods.last().map(|p| p.1.clone())).unwrap_or(started_at.clone());
    let unplugged_at = unplugged_at?.unwrap_or(charging_ended_at.clone());
    Some(QuoteSession { started_at, charging_ended_at, unplugged_at, time_zone: time_zone?, periods })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_every_bad_field_of_a_tariff() {
        let body = json!({
            "currency": "euro",
            "elements": [
                { "priceComponents": [{ "type": "GAS", "price": "-1", "vat": "120" }], "restrictions": { "startTime": "25:00", "dayOfWeek": ["FUNDAY"] } },
                { "priceComponents": [] }
            ],
            "minPrice": { "inclVat": "1" },
            "colour": "red"
        });
        let error = tariff(&body).unwrap_err();
        let details = error.details.unwrap();
        for field in [
            "currency",
            "elements[0].priceComponents[0].type",
            "elements[0].priceComponents[0].price",
            "elements[0].priceComponents[0].vat",
            "elements[0].restrictions.startTime",
            "elements[0].restrictions.dayOfWeek",
            "elements[1].priceComponents",
            "minPrice.exclVat",
            "colour",
        ] {
            assert!(details.get(field).is_some(), "{field} missing from {details}");
        }
    }

    #[test]
    fn a_valid_tariff_gets_the_default_rule() {
        let body = json!({ "currency": "EUR", "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": 0.25 }] }] });
        assert_eq!(tariff(&body).unwrap()["rule"], "ocpi");
        let parsed: ocpi_tariff::Tariff = serde_json::from_value(tariff(&body).unwrap()).unwrap();
        assert_eq!(parsed.elements[0].price_components[0].price.to_string(), "0.25");
    }
}
