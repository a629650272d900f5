//! Checking a quote's `session` field by field, within the limits the pricing engine prices
//! (`ocpi_tariff::limits`): at most 31 days from start to unplugging, 1000 periods, and
//! 1 GWh a period. A longer session is refused here, naming the field, before any rule runs.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use joule_sdk::api::{Problems, Reader};
use ocpi_tariff::limits::{MAX_PERIOD_WH, MAX_PERIODS, MAX_SESSION_DAYS};

/// What a quote's session says, checked; times are RFC 3339 in UTC.
pub struct QuoteSession {
    pub started_at: String,
    pub charging_ended_at: String,
    pub unplugged_at: String,
    pub time_zone: String,
    pub periods: Vec<(String, String, u64)>,
}

fn text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Checks the `session` of a quote request.
pub fn read(reader: &Reader<'_>, problems: &mut Problems) -> Option<QuoteSession> {
    let session = reader.object("session", true, problems)?;
    session.only(&["startedAt", "chargingEndedAt", "unpluggedAt", "timeZone", "periods"], problems);
    let started_at = session.timestamp("startedAt", problems);
    let charging_ended_at = session.optional_timestamp("chargingEndedAt", problems);
    let unplugged_at = session.optional_timestamp("unpluggedAt", problems);
    let time_zone = session.string("timeZone", 64, problems);
    if let Some(zone) = &time_zone
        && zone.parse::<chrono_tz::Tz>().is_err()
    {
        problems.add(session.path("timeZone"), "must be an IANA time zone such as \"Europe/Amsterdam\"");
    }
    let mut periods = Vec::new();
    let mut complete = true;
    for period in session.objects("periods", false, MAX_PERIODS, problems).unwrap_or_default() {
        period.only(&["startsAt", "endsAt", "energyWh"], problems);
        let starts = period.timestamp("startsAt", problems);
        let ends = period.timestamp("endsAt", problems);
        let energy = period.whole("energyWh", 0, MAX_PERIOD_WH, problems);
        match (starts, ends, energy) {
            (Some(starts), Some(ends), Some(energy)) => periods.push((starts, ends, energy)),
            _ => complete = false,
        }
    }
    // Every time must fall within the longest session of its start.
    if let Some(start) = started_at {
        let mut times = vec![
            (session.path("chargingEndedAt"), charging_ended_at.flatten()),
            (session.path("unpluggedAt"), unplugged_at.flatten()),
        ];
        for (i, (starts, ends, _)) in periods.iter().enumerate() {
            let path = format!("{}[{i}]", session.path("periods"));
            times.push((format!("{path}.startsAt"), Some(*starts)));
            times.push((format!("{path}.endsAt"), Some(*ends)));
        }
        for (path, at) in times {
            if at.is_some_and(|at| at.signed_duration_since(start).abs() > TimeDelta::days(MAX_SESSION_DAYS)) {
                problems.add(path, format!("must be within {MAX_SESSION_DAYS} days of session.startedAt"));
            }
        }
    }
    let started_at = started_at?;
    complete.then_some(())?;
    let charging_ended_at = charging_ended_at?.or_else(|| periods.last().map(|p| p.1)).unwrap_or(started_at);
    let unplugged_at = unplugged_at?.unwrap_or(charging_ended_at);
    Some(QuoteSession {
        started_at: text(started_at),
        charging_ended_at: text(charging_ended_at),
        unplugged_at: text(unplugged_at),
        time_zone: time_zone?,
        periods: periods.into_iter().map(|(starts, ends, energy)| (text(starts), text(ends), energy)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use joule_sdk::api::ApiError;
    use serde_json::{Value, json};

    use super::*;

    fn read_body(body: &Value) -> Result<QuoteSession, ApiError> {
        let mut problems = Problems::new();
        let reader = Reader::body(body, &mut problems);
        let session = read(&reader, &mut problems);
        problems.finish()?;
        Ok(session.expect("no problems"))
    }

    fn details(body: Value) -> Value {
        let error = read_body(&body).err().expect("refused");
        assert_eq!(error.status, 422);
        error.details.unwrap()
    }

    #[test]
    fn reads_a_session_in_utc_with_its_defaults() {
        let body = json!({ "session": { "startedAt": "2026-11-23T16:30:00+01:00", "timeZone": "Europe/Amsterdam",
            "periods": [{ "startsAt": "2026-11-23T16:30:00+01:00", "endsAt": "2026-11-23T17:40:00+01:00", "energyWh": 12800 }] } });
        let session = read_body(&body).ok().unwrap();
        assert_eq!(session.started_at, "2026-11-23T15:30:00Z");
        assert_eq!((session.charging_ended_at.as_str(), session.unplugged_at.as_str()), ("2026-11-23T16:40:00Z", "2026-11-23T16:40:00Z"));
        assert_eq!(session.periods, [("2026-11-23T15:30:00Z".into(), "2026-11-23T16:40:00Z".into(), 12800)]);
    }

    #[test]
    fn refuses_sessions_the_engine_cannot_price_naming_the_field() {
        // Year 1 to 9999 in one period, and a period's energy of u64::MAX.
        let details = details(json!({ "session": { "startedAt": "0001-01-01T00:00:00Z", "timeZone": "UTC",
            "periods": [{ "startsAt": "0001-01-01T00:00:00Z", "endsAt": "9999-12-31T00:00:00Z", "energyWh": 18_446_744_073_709_551_615u64 }] } }));
        assert_eq!(details["session.periods[0].energyWh"], "must be a whole number from 0 to 1000000000");
        let details = self::details(json!({ "session": { "startedAt": "0001-01-01T00:00:00Z", "timeZone": "UTC",
            "periods": [{ "startsAt": "0001-01-01T00:00:00Z", "endsAt": "9999-12-31T00:00:00Z", "energyWh": 1 }] } }));
        assert_eq!(details["session.periods[0].endsAt"], "must be within 31 days of session.startedAt");
        let details = self::details(json!({ "session": { "startedAt": "2026-01-01T00:00:00Z", "timeZone": "UTC",
            "unpluggedAt": "2026-02-01T00:00:01Z", "chargingEndedAt": "2026-02-01T00:00:00Z" } }));
        assert_eq!(details.as_object().unwrap().len(), 1, "31 days exactly is fine: {details}");
        assert!(details["session.unpluggedAt"].is_string());
        let period = json!({ "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T00:01:00Z", "energyWh": 1 });
        let details = self::details(json!({ "session": { "startedAt": "2026-01-01T00:00:00Z", "timeZone": "UTC",
            "periods": vec![period; MAX_PERIODS + 1] } }));
        assert_eq!(details["session.periods"], "must list at most 1000 items");
    }

    #[test]
    fn names_each_bad_time_of_a_period() {
        let details = details(json!({ "session": { "startedAt": "2026-01-01T00:00:00Z", "timeZone": "UTC",
            "periods": [{ "startsAt": "soon", "endsAt": "9999-12-31T23:00:00-05:00" }] } }));
        for field in ["session.periods[0].startsAt", "session.periods[0].endsAt", "session.periods[0].energyWh"] {
            assert!(details[field].is_string(), "{field} missing from {details}");
        }
    }
}
