//! Reading park and leave bodies. Every problem is collected, so one 422 names each bad field.

use chrono::{DateTime, TimeDelta, Utc};
use joule_sdk::api::{ApiError, Problems, Reader};
use serde_json::Value;

use crate::fields;
use crate::lot::{Kind, Size};

/// A plate as written, spaces and hyphens included.
const MAX_REGNUM: usize = 20;
/// How far ahead of this host a gate's clock may run: a time reported that much in the
/// future is still taken as now-ish, not refused.
const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(5);

const REGNUM_PROBLEM: &str = "must be a plate of letters A to Z and digits, with spaces or hyphens if you like";
const FUTURE_PROBLEM: &str = "must not be in the future";

/// A vehicle arriving: `POST /parking/lots/{id}/park`.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    pub regnum: String,
    pub kind: Kind,
    pub size: Size,
    /// When the gate saw it, if it says.
    pub parked_at: Option<DateTime<Utc>>,
}

/// A vehicle leaving: `POST /parking/lots/{id}/leave`.
#[derive(Debug, Clone, PartialEq)]
pub struct Departure {
    pub regnum: String,
    pub left_at: Option<DateTime<Utc>>,
}

pub fn arrival(body: &Value, now: DateTime<Utc>) -> Result<Arrival, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&["regnum", "kind", "size", "parkedAt"], &mut problems);
    let regnum = regnum(&reader, &mut problems);
    let kind = fields::kind(&reader, &mut problems);
    let size = fields::size(&reader, &mut problems);
    let parked_at = past(&reader, "parkedAt", now, &mut problems);
    problems.finish()?;
    let complete = "every field was checked above";
    Ok(Arrival {
        regnum: regnum.expect(complete),
        kind: kind.expect(complete),
        size: size.expect(complete),
        parked_at: parked_at.expect(complete),
    })
}

pub fn departure(body: &Value, now: DateTime<Utc>) -> Result<Departure, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&["regnum", "leftAt"], &mut problems);
    let regnum = regnum(&reader, &mut problems);
    let left_at = past(&reader, "leftAt", now, &mut problems);
    problems.finish()?;
    let complete = "every field was checked above";
    Ok(Departure { regnum: regnum.expect(complete), left_at: left_at.expect(complete) })
}

/// A plate in the one form it is kept in: upper case, without spaces and hyphens, so
/// "ab-12 cd" at the gate is the "AB12CD" a driver registered.
pub fn normalise_regnum(written: &str) -> Option<String> {
    let plate: String = written.chars().filter(|c| *c != ' ' && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (!plate.is_empty() && plate.chars().all(|c| c.is_ascii_alphanumeric())).then_some(plate)
}

fn regnum(reader: &Reader<'_>, problems: &mut Problems) -> Option<String> {
    let plate = normalise_regnum(&reader.string("regnum", MAX_REGNUM, problems)?);
    if plate.is_none() {
        problems.add(reader.path("regnum"), REGNUM_PROBLEM);
    }
    plate
}

/// An optional time a gate reports, which cannot be ahead of now.
fn past(reader: &Reader<'_>, key: &str, now: DateTime<Utc>, problems: &mut Problems) -> Option<Option<DateTime<Utc>>> {
    let at = reader.optional_timestamp(key, problems)?;
    if at.is_some_and(|at| at > now + CLOCK_SKEW) {
        problems.add(reader.path(key), FUTURE_PROBLEM);
        return None;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn details(error: ApiError) -> Value {
        assert_eq!(error.status, 422);
        error.details.unwrap()
    }

    #[test]
    fn reads_an_arrival_with_its_plate_normalised() {
        let arrival = arrival(&json!({ "regnum": "ab-12 cd", "kind": "EV", "size": "CAR" }), now()).unwrap();
        assert_eq!(arrival, Arrival { regnum: "AB12CD".into(), kind: Kind::Ev, size: Size::Car, parked_at: None });
        let at = json!({ "regnum": "X1", "kind": "ICE", "size": "VAN", "parkedAt": "2026-11-23T12:30:00+01:00" });
        assert_eq!(super::arrival(&at, now()).unwrap().parked_at.unwrap().to_rfc3339(), "2026-11-23T11:30:00+00:00");
    }

    #[test]
    fn names_each_bad_field_of_an_arrival() {
        let body = json!({ "regnum": "AB_12", "kind": "HYBRID", "parkedAt": "2026-11-23T13:00:00Z", "colour": "red" });
        let found = details(arrival(&body, now()).unwrap_err());
        assert_eq!(found["regnum"], REGNUM_PROBLEM);
        assert_eq!(found["kind"], "must be one of EV, ICE");
        assert_eq!(found["size"], "is required");
        assert_eq!(found["parkedAt"], FUTURE_PROBLEM);
        assert_eq!(found["colour"], "is not a known field");
        let found = details(
            arrival(&json!({ "regnum": 12, "kind": "EV", "size": "car", "parkedAt": "noon" }), now()).unwrap_err(),
        );
        assert_eq!(found["regnum"], "must be a string");
        assert_eq!(found["size"], "must be one of MOTORBIKE, CAR, VAN");
        assert!(found["parkedAt"].as_str().unwrap().contains("RFC 3339"), "{found}");
    }

    #[test]
    fn a_gate_clock_a_little_ahead_is_not_the_future() {
        let body = json!({ "regnum": "X1", "leftAt": "2026-11-23T12:00:04Z" });
        assert!(departure(&body, now()).unwrap().left_at.is_some());
        let body = json!({ "regnum": "X1", "leftAt": "2026-11-23T12:01:00Z" });
        assert_eq!(details(departure(&body, now()).unwrap_err())["leftAt"], FUTURE_PROBLEM);
    }

    #[test]
    fn reads_a_departure() {
        let departure = departure(&json!({ "regnum": "x 1" }), now()).unwrap();
        assert_eq!(departure, Departure { regnum: "X1".into(), left_at: None });
        let found = details(super::departure(&json!({ "leftAt": null, "kind": "EV" }), now()).unwrap_err());
        assert_eq!(found["regnum"], "is required");
        assert_eq!(found["kind"], "is not a known field");
    }

    #[test]
    fn plates_compare_in_one_form() {
        assert_eq!(normalise_regnum("ab-12 cd").as_deref(), Some("AB12CD"));
        assert_eq!(normalise_regnum("AB12CD").as_deref(), Some("AB12CD"));
        for bad in ["", " - ", "AB.12", "ÅB12", "AB\t12", "AB,12"] {
            assert_eq!(normalise_regnum(bad), None, "{bad:?}");
        }
    }
}
