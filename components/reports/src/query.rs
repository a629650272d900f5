//! A report's query parameters: `from` and `to` (dates, `to` inclusive, at most
//! [`MOST_DAYS_APART`] apart), and the filters a report takes. One 422 names every bad one.

use std::ops::RangeInclusive;

use chrono::NaiveDate;
use joule_sdk::api::{ApiError, Problems, text};
use uuid::Uuid;

/// How far apart `from` and `to` may be.
pub const MOST_DAYS_APART: i64 = 366;

const DATE_PROBLEM: &str = "must be a date written YYYY-MM-DD, such as \"2026-11-23\"";

/// A report's parameters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub station_id: Option<Uuid>,
    pub currency: Option<String>,
}

impl Query {
    pub fn days(&self) -> RangeInclusive<NaiveDate> {
        self.from..=self.to
    }
}

/// The optional filters a report may take besides `from` and `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    StationId,
    Currency,
}

impl Filter {
    fn name(self) -> &'static str {
        match self {
            Self::StationId => "stationId",
            Self::Currency => "currency",
        }
    }
}

/// Reads `params` for a report that takes `filters`: 422 naming each parameter that is
/// missing, malformed, repeated or not one the report takes.
pub fn parse(params: &[(String, String)], filters: &[Filter]) -> Result<Query, ApiError> {
    let mut problems = Problems::new();
    let known = |name: &str| ["from", "to"].contains(&name) || filters.iter().any(|f| f.name() == name);
    for (index, (name, _)) in params.iter().enumerate() {
        if !known(name) {
            problems.add(text::printable(name), "is not a parameter of this report");
        } else if params[..index].iter().any(|(earlier, _)| earlier == name) {
            problems.add(name.as_str(), "must be given once");
        }
    }
    let value = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let from = date(value("from"), "from", &mut problems);
    let to = date(value("to"), "to", &mut problems);
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            problems.add("to", "must not be before from");
        } else if (to - from).num_days() > MOST_DAYS_APART {
            problems.add("to", format!("must be at most {MOST_DAYS_APART} days after from"));
        }
    }
    let optional = |name: &str| value(name).filter(|v| !v.is_empty());
    let station_id = optional("stationId").and_then(|raw| {
        let parsed = Uuid::parse_str(raw).ok();
        if parsed.is_none() {
            problems.add("stationId", "must be a station's id, a UUID");
        }
        parsed
    });
    let currency = optional("currency").and_then(|raw| {
        let fits = raw.len() == 3 && raw.chars().all(|c| c.is_ascii_alphabetic());
        if !fits {
            problems.add("currency", "must be a three-letter ISO 4217 code, such as \"EUR\"");
        }
        fits.then(|| raw.to_ascii_uppercase())
    });
    problems.finish()?;
    Ok(Query { from: from.expect("checked"), to: to.expect("checked"), station_id, currency })
}

fn date(raw: Option<&str>, name: &str, problems: &mut Problems) -> Option<NaiveDate> {
    match raw.filter(|v| !v.is_empty()) {
        None => {
            problems.add(name, "is required");
            None
        }
        Some(raw) => {
            // Exactly YYYY-MM-DD: chrono alone would take "2026-3-2" and "+2026-03-02".
            let shaped = raw.len() == 10
                && raw.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
            let parsed = shaped.then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()).flatten();
            if parsed.is_none() {
                problems.add(name, DATE_PROBLEM);
            }
            parsed
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn details(pairs: &[(&str, &str)], filters: &[Filter]) -> serde_json::Value {
        let error = parse(&params(pairs), filters).unwrap_err();
        assert_eq!((error.status, error.code.as_str()), (422, "validation_failed"));
        error.details.unwrap()
    }

    #[test]
    fn reads_a_range_and_the_filters_a_report_takes() {
        let station = "0194b7a2-0000-7000-8000-000000000001";
        let query = parse(
            &params(&[("from", "2026-03-01"), ("to", "2026-03-02"), ("stationId", station), ("currency", "eur")]),
            &[Filter::StationId, Filter::Currency],
        )
        .unwrap();
        assert_eq!(query.days(), "2026-03-01".parse().unwrap()..="2026-03-02".parse().unwrap());
        assert_eq!(query.station_id, Some(Uuid::parse_str(station).unwrap()));
        assert_eq!(query.currency.as_deref(), Some("EUR"));
        let one_day = parse(&params(&[("from", "2026-03-01"), ("to", "2026-03-01"), ("stationId", "")]), &[Filter::StationId]);
        assert_eq!(one_day.unwrap().station_id, None, "an empty filter is no filter");
    }

    #[test]
    fn names_each_bad_parameter() {
        assert_eq!(details(&[], &[]), json!({ "from": "is required", "to": "is required" }));
        assert_eq!(
            details(&[("from", "2026-3-1"), ("to", "yesterday"), ("stationId", "7"), ("limit", "5")], &[Filter::StationId]),
            json!({
                "from": DATE_PROBLEM,
                "to": DATE_PROBLEM,
                "stationId": "must be a station's id, a UUID",
                "limit": "is not a parameter of this report",
            })
        );
        assert_eq!(details(&[("from", "2026-03-02"), ("to", "2026-03-01")], &[]), json!({ "to": "must not be before from" }));
        assert_eq!(
            details(&[("from", "2026-02-30"), ("to", "+2026-03-01"), ("currency", "EURO")], &[Filter::Currency]),
            json!({ "from": DATE_PROBLEM, "to": DATE_PROBLEM, "currency": "must be a three-letter ISO 4217 code, such as \"EUR\"" })
        );
        assert_eq!(
            details(&[("from", "2026-03-01"), ("to", "2026-03-02"), ("currency", "EUR")], &[Filter::StationId]),
            json!({ "currency": "is not a parameter of this report" })
        );
        assert_eq!(
            details(&[("from", "2026-03-01"), ("from", "2026-03-02"), ("to", "2026-03-02")], &[]),
            json!({ "from": "must be given once" })
        );
    }

    #[test]
    fn the_range_is_at_most_366_days() {
        let range = |to: &str| parse(&params(&[("from", "2024-01-01"), ("to", to)]), &[]);
        assert!(range("2025-01-01").is_ok(), "366 days apart, 2024 being a leap year");
        assert_eq!(range("2025-01-02").unwrap_err().details.unwrap(), json!({ "to": "must be at most 366 days after from" }));
    }
}
