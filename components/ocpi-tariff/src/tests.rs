//! Every expected amount here was worked out by hand from the OCPI 2.2.1 rules.

use chrono::{DateTime, Datelike as _, NaiveDateTime, TimeZone as _, Utc, Weekday};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::json;

use super::*;

const ZONE: Tz = chrono_tz::Europe::Amsterdam;

fn tariff(value: serde_json::Value) -> Tariff {
    serde_json::from_value(value).expect("a valid tariff")
}

fn at(local: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    ZONE.from_local_datetime(&naive).single().unwrap().with_timezone(&Utc)
}

/// A session in local times: `(from, to, Wh)` meter periods, then charging end and unplugging.
fn session(periods: &[(&str, &str, u64)], charging_ended: &str, unplugged: &str) -> Session {
    Session {
        started_at: at(periods[0].0),
        charging_ended_at: at(charging_ended),
        unplugged_at: at(unplugged),
        time_zone: ZONE,
        periods: periods
            .iter()
            .map(|(from, to, wh)| ChargingPeriod { starts_at: at(from), ends_at: at(to), energy_wh: *wh })
            .collect(),
    }
}

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn line<'b>(breakdown: &'b Breakdown, dimension: &str) -> &'b Line {
    breakdown.lines.iter().find(|l| l.dimension == dimension).unwrap_or_else(|| panic!("no {dimension} line: {breakdown:#?}"))
}

fn energy_only(elements: serde_json::Value) -> Tariff {
    tariff(json!({ "currency": "EUR", "elements": elements }))
}

/// A Monday in the station's time zone.
const MONDAY: &str = "2025-01-06";

#[test]
fn the_worked_example() {
    assert_eq!(at(&format!("{MONDAY} 12:00")).with_timezone(&ZONE).weekday(), Weekday::Mon);
    let tariff = tariff(json!({
        "currency": "EUR",
        "elements": [
            { "priceComponents": [{ "type": "FLAT", "price": "0.50", "vat": "20" }] },
            { "priceComponents": [{ "type": "ENERGY", "price": "0.30", "vat": "20" }],
              "restrictions": { "startTime": "17:00", "endTime": "21:00",
                                "dayOfWeek": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"] } },
            { "priceComponents": [{ "type": "ENERGY", "price": "0.25", "vat": "20" }] },
            { "priceComponents": [{ "type": "PARKING_TIME", "price": "6.00", "vat": "20", "stepSize": 300 }] }
        ]
    }));
    let session = session(
        &[(&format!("{MONDAY} 16:30"), &format!("{MONDAY} 17:00"), 5500), (&format!("{MONDAY} 17:00"), &format!("{MONDAY} 17:40"), 7300)],
        &format!("{MONDAY} 17:40"),
        &format!("{MONDAY} 18:02"),
    );
    let breakdown = price(&tariff, &session).unwrap();
    assert_eq!(breakdown.lines.len(), 3);
    let flat = line(&breakdown, "FLAT");
    assert_eq!((flat.amount_excl_vat, flat.amount_incl_vat), (d("0.5000"), Some(d("0.6000"))));
    let energy = line(&breakdown, "ENERGY");
    assert_eq!(energy.volume, d("12.8"));
    assert_eq!((energy.amount_excl_vat, energy.amount_incl_vat), (d("3.5650"), Some(d("4.2780"))));
    let parking = line(&breakdown, "PARKING_TIME");
    assert_eq!(parking.volume, d("0.4167"), "22 minutes rounded up to 25");
    assert_eq!((parking.amount_excl_vat, parking.amount_incl_vat), (d("2.5000"), Some(d("3.0000"))));
    assert_eq!(breakdown.total_excl_vat.to_string(), "6.5650");
    assert_eq!(breakdown.total_incl_vat.unwrap().to_string(), "7.8780");
}

#[test]
fn a_time_window_wraps_past_midnight() {
    let tariff = energy_only(json!([
        { "priceComponents": [{ "type": "ENERGY", "price": "0.20" }], "restrictions": { "startTime": "22:00", "endTime": "06:00" } },
        { "priceComponents": [{ "type": "ENERGY", "price": "0.40" }] }
    ]));
    // 21:00-22:00 day rate, 22:00-23:00 night rate: 10 × 0.40 + 10 × 0.20.
    let evening = session(&[(&format!("{MONDAY} 21:00"), &format!("{MONDAY} 23:00"), 20_000)], &format!("{MONDAY} 23:00"), &format!("{MONDAY} 23:00"));
    assert_eq!(price(&tariff, &evening).unwrap().total_excl_vat, d("6.0000"));
    // 05:00-06:00 still night, 06:00-07:00 day.
    let morning = session(&[("2025-01-07 05:00", "2025-01-07 07:00", 20_000)], "2025-01-07 07:00", "2025-01-07 07:00");
    assert_eq!(price(&tariff, &morning).unwrap().total_excl_vat, d("6.0000"));
    // Across midnight, entirely within the window.
    let night = session(&[(&format!("{MONDAY} 23:00"), "2025-01-07 01:00", 20_000)], "2025-01-07 01:00", "2025-01-07 01:00");
    assert_eq!(price(&tariff, &night).unwrap().total_excl_vat, d("4.0000"));
}

#[test]
fn day_of_week() {
    let tariff = energy_only(json!([
        { "priceComponents": [{ "type": "ENERGY", "price": "0.10" }], "restrictions": { "dayOfWeek": ["SATURDAY", "SUNDAY"] } },
        { "priceComponents": [{ "type": "ENERGY", "price": "0.40" }] }
    ]));
    // Sunday 23:00 to Monday 01:00: an hour at the weekend rate, an hour at the weekday rate.
    let session = session(&[("2025-01-05 23:00", &format!("{MONDAY} 01:00"), 20_000)], &format!("{MONDAY} 01:00"), &format!("{MONDAY} 01:00"));
    assert_eq!(price(&tariff, &session).unwrap().total_excl_vat, d("5.0000"));
}

#[test]
fn kwh_thresholds_split_a_meter_period() {
    let tariff = energy_only(json!([
        { "priceComponents": [{ "type": "ENERGY", "price": "0.50" }], "restrictions": { "maxKwh": "10" } },
        { "priceComponents": [{ "type": "ENERGY", "price": "0.30" }], "restrictions": { "minKwh": "10" } }
    ]));
    // 20 kWh at constant power: the first 10 at 0.50, the rest at 0.30.
    let session = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 11:00"), 20_000)], &format!("{MONDAY} 11:00"), &format!("{MONDAY} 11:00"));
    let breakdown = price(&tariff, &session).unwrap();
    assert_eq!(breakdown.total_excl_vat, d("8.0000"));
    assert_eq!(line(&breakdown, "ENERGY").volume, d("20"));
}

#[test]
fn duration_thresholds() {
    let tariff = tariff(json!({ "currency": "EUR", "elements": [
        { "priceComponents": [{ "type": "TIME", "price": "2.00" }], "restrictions": { "maxDuration": 1800 } },
        { "priceComponents": [{ "type": "TIME", "price": "1.00" }], "restrictions": { "minDuration": 1800 } }
    ]}));
    // Half an hour at 2.00/h, then half an hour at 1.00/h.
    let session = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 11:00"), 10_000)], &format!("{MONDAY} 11:00"), &format!("{MONDAY} 11:00"));
    let breakdown = price(&tariff, &session).unwrap();
    assert_eq!(line(&breakdown, "TIME").volume, d("1"));
    assert_eq!(breakdown.total_excl_vat, d("1.5000"));
}

#[test]
fn power_restrictions_use_instantaneous_power() {
    let tariff = energy_only(json!([
        { "priceComponents": [{ "type": "ENERGY", "price": "0.60" }], "restrictions": { "minPower": "50" } },
        { "priceComponents": [{ "type": "ENERGY", "price": "0.30" }] }
    ]));
    // Half an hour at 60 kW (30 kWh) is fast charging; the next half hour at 11 kW is not.
    let session = session(
        &[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 10:30"), 30_000), (&format!("{MONDAY} 10:30"), &format!("{MONDAY} 11:00"), 5_500)],
        &format!("{MONDAY} 11:00"),
        &format!("{MONDAY} 11:00"),
    );
    assert_eq!(price(&tariff, &session).unwrap().total_excl_vat, d("19.6500"));
}

#[test]
fn energy_step_size_rounds_the_session_total_up() {
    let tariff = energy_only(json!([{ "priceComponents": [{ "type": "ENERGY", "price": "0.25", "stepSize": 1000 }] }]));
    // 12.345 kWh billed as 13 kWh.
    let session = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 11:00"), 12_345)], &format!("{MONDAY} 11:00"), &format!("{MONDAY} 11:00"));
    let breakdown = price(&tariff, &session).unwrap();
    assert_eq!(line(&breakdown, "ENERGY").volume, d("13"));
    assert_eq!(breakdown.total_excl_vat, d("3.2500"));
}

#[test]
fn time_and_parking_step_sizes() {
    let tariff = tariff(json!({ "currency": "EUR", "elements": [{ "priceComponents": [
        { "type": "TIME", "price": "2.00", "stepSize": 900 },
        { "type": "PARKING_TIME", "price": "6.00", "stepSize": 300 }
    ]}]}));
    // Charging 10 minutes, parked 7: only the parking is rounded up, to 10 minutes.
    let both = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 10:10"), 1_000)], &format!("{MONDAY} 10:10"), &format!("{MONDAY} 10:17"));
    let breakdown = price(&tariff, &both).unwrap();
    assert_eq!(line(&breakdown, "TIME").amount_excl_vat, d("0.3333"));
    assert_eq!(line(&breakdown, "PARKING_TIME").amount_excl_vat, d("1.0000"));
    // With no parking, the charging time is rounded up to 15 minutes instead.
    let charging_only = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 10:10"), 1_000)], &format!("{MONDAY} 10:10"), &format!("{MONDAY} 10:10"));
    let breakdown = price(&tariff, &charging_only).unwrap();
    assert_eq!(line(&breakdown, "TIME").amount_excl_vat, d("0.5000"));
}

#[test]
fn minimum_and_maximum_price() {
    let short = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 10:30"), 2_000)], &format!("{MONDAY} 10:30"), &format!("{MONDAY} 10:30"));
    let minimum = tariff(json!({ "currency": "EUR", "minPrice": { "exclVat": "5.00", "inclVat": "6.00" },
        "elements": [{ "priceComponents": [{ "type": "FLAT", "price": "1.00", "vat": "20" }] }] }));
    let breakdown = price(&minimum, &short).unwrap();
    assert_eq!(line(&breakdown, "MIN_PRICE").amount_excl_vat, d("4.0000"));
    assert_eq!(line(&breakdown, "MIN_PRICE").amount_incl_vat, Some(d("4.8000")));
    assert_eq!((breakdown.total_excl_vat, breakdown.total_incl_vat), (d("5.0000"), Some(d("6.0000"))));

    let maximum = tariff(json!({ "currency": "EUR", "maxPrice": { "exclVat": "20.00" },
        "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": "0.50", "vat": "20" }] }] }));
    let long = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 12:00"), 100_000)], &format!("{MONDAY} 12:00"), &format!("{MONDAY} 12:00"));
    let breakdown = price(&maximum, &long).unwrap();
    assert_eq!(line(&breakdown, "MAX_PRICE").amount_excl_vat, d("-30.0000"));
    assert_eq!(breakdown.total_excl_vat, d("20.0000"));
    // A bound with no figure including VAT clamps only the one excluding it (OCPI read
    // literally); the total including VAT stays as priced, never null when every line has VAT.
    assert_eq!(line(&breakdown, "MAX_PRICE").amount_incl_vat, Some(d("0")));
    assert_eq!(breakdown.total_incl_vat, Some(d("60.0000")));
    let minimum_excl_only = tariff(json!({ "currency": "EUR", "minPrice": { "exclVat": "5.00" },
        "elements": [{ "priceComponents": [{ "type": "FLAT", "price": "1.00", "vat": "20" }] }] }));
    let breakdown = price(&minimum_excl_only, &short).unwrap();
    assert_eq!((breakdown.total_excl_vat, breakdown.total_incl_vat), (d("5.0000"), Some(d("1.2000"))));
    // Lines with no VAT still give no total including it, whatever the bound.
    let no_vat = tariff(json!({ "currency": "EUR", "maxPrice": { "exclVat": "1.00", "inclVat": "1.20" },
        "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": "0.50" }] }] }));
    assert_eq!(price(&no_vat, &long).unwrap().total_incl_vat, None);
}

#[test]
fn missing_vat_is_not_zero_vat() {
    let session = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 11:00"), 10_000)], &format!("{MONDAY} 11:00"), &format!("{MONDAY} 11:00"));
    let zero = energy_only(json!([{ "priceComponents": [{ "type": "ENERGY", "price": "0.30", "vat": "0" }] }]));
    let breakdown = price(&zero, &session).unwrap();
    assert_eq!(line(&breakdown, "ENERGY").vat_percent, Some(d("0")));
    assert_eq!(breakdown.total_incl_vat, Some(d("3.0000")));
    let missing = energy_only(json!([{ "priceComponents": [{ "type": "ENERGY", "price": "0.30" }] }]));
    let breakdown = price(&missing, &session).unwrap();
    assert_eq!(line(&breakdown, "ENERGY").vat_percent, None);
    assert_eq!(line(&breakdown, "ENERGY").amount_incl_vat, None);
    assert_eq!((breakdown.total_excl_vat, breakdown.total_incl_vat), (d("3.0000"), None));
}

#[test]
fn the_first_matching_element_prices_each_dimension() {
    let tariff = tariff(json!({ "currency": "EUR", "elements": [
        { "priceComponents": [{ "type": "ENERGY", "price": "0.30" }], "restrictions": { "startTime": "18:00", "endTime": "20:00" } },
        { "priceComponents": [{ "type": "ENERGY", "price": "0.25" }, { "type": "TIME", "price": "1.00" }] },
        { "priceComponents": [{ "type": "TIME", "price": "5.00" }] }
    ]}));
    // Energy from the first element, time from the second: the dimensions are independent.
    let evening = session(&[(&format!("{MONDAY} 19:00"), &format!("{MONDAY} 19:30"), 5_000)], &format!("{MONDAY} 19:30"), &format!("{MONDAY} 19:30"));
    let breakdown = price(&tariff, &evening).unwrap();
    assert_eq!(line(&breakdown, "ENERGY").amount_excl_vat, d("1.5000"));
    assert_eq!(line(&breakdown, "TIME").amount_excl_vat, d("0.5000"));
    // Outside the first element's window the second prices energy too; no parking is billed.
    let noon = session(&[(&format!("{MONDAY} 12:00"), &format!("{MONDAY} 12:30"), 5_000)], &format!("{MONDAY} 12:30"), &format!("{MONDAY} 13:00"));
    let breakdown = price(&tariff, &noon).unwrap();
    assert_eq!(line(&breakdown, "ENERGY").amount_excl_vat, d("1.2500"));
    assert!(breakdown.lines.iter().all(|l| l.dimension != "PARKING_TIME"), "a dimension with no element costs 0");
}

#[test]
fn refuses_impossible_sessions_and_expired_tariffs() {
    let tariff = energy_only(json!([{ "priceComponents": [{ "type": "ENERGY", "price": "0.30" }] }]));
    let mut backwards = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 11:00"), 1)], &format!("{MONDAY} 11:00"), &format!("{MONDAY} 11:00"));
    backwards.unplugged_at = at(&format!("{MONDAY} 10:30"));
    assert!(matches!(price(&tariff, &backwards), Err(PricingError::InvalidSession(_))));
    let mut expired = tariff.clone();
    expired.end_date_time = Some(at("2024-12-31 00:00"));
    let session = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 11:00"), 1)], &format!("{MONDAY} 11:00"), &format!("{MONDAY} 11:00"));
    assert!(matches!(price(&expired, &session), Err(PricingError::InvalidTariff(_))));
}

#[test]
fn tariffs_read_and_write_ocpi_json() {
    let text = json!({ "currency": "EUR", "elements": [{ "priceComponents": [{ "type": "PARKING_TIME", "price": "6.00", "stepSize": 300 }],
        "restrictions": { "startTime": "22:00", "endTime": "06:00", "dayOfWeek": ["SATURDAY"] } }] });
    let parsed = tariff(text.clone());
    assert_eq!(serde_json::to_value(&parsed).unwrap()["elements"][0]["restrictions"]["startTime"], "22:00");
    assert!(serde_json::from_value::<Tariff>(json!({ "currency": "EUR", "elements": [{ "priceComponents": [{ "type": "GAS", "price": "1" }] }] })).is_err());
}

/// An error, not a panic, for every amount too large to compute: the rule would trap.
#[test]
fn amounts_too_large_to_compute_are_refused() {
    let huge = energy_only(json!([{ "priceComponents": [{ "type": "ENERGY", "price": "79000000000000000000000000000", "vat": "20" }] }]));
    let mut session = session(&[(&format!("{MONDAY} 10:00"), &format!("{MONDAY} 11:00"), 1_000)], &format!("{MONDAY} 11:00"), &format!("{MONDAY} 11:00"));
    assert!(matches!(price(&huge, &session), Err(PricingError::InvalidTariff(_))));
    session.periods[0].energy_wh = u64::MAX;
    assert!(matches!(price(&huge, &session), Err(PricingError::InvalidSession(_))), "over a period's most energy");
    let bounds = tariff(json!({ "currency": "EUR", "maxPrice": { "exclVat": "79000000000000000000000000000" },
        "minPrice": { "exclVat": "-79000000000000000000000000000" },
        "elements": [{ "priceComponents": [{ "type": "FLAT", "price": "79000000000000000000000000000" }],
                       "restrictions": { "minKwh": "79000000000000000000000000000", "maxKwh": "79000000000000000000000000000" } },
                     { "priceComponents": [{ "type": "FLAT", "price": "1", "stepSize": 4294967295u32 }] }] }));
    session.periods[0].energy_wh = 1_000;
    assert_eq!(price(&bounds, &session).unwrap().total_excl_vat, d("1.0000"), "kWh bounds past any energy never hold");
}

#[test]
fn refuses_sessions_past_the_limits_before_splitting_them() {
    let tariff = energy_only(json!([{ "priceComponents": [{ "type": "ENERGY", "price": "0.30" }],
                                      "restrictions": { "startTime": "01:00", "endTime": "02:00" } }]));
    // Year 1 to 9999 in one period: refused at once, not split day by day.
    let utc = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
    let forever = Session {
        started_at: utc("0001-01-01T00:00:00Z"),
        charging_ended_at: utc("9999-12-31T00:00:00Z"),
        unplugged_at: utc("9999-12-31T00:00:00Z"),
        time_zone: ZONE,
        periods: vec![ChargingPeriod { starts_at: utc("0001-01-01T00:00:00Z"), ends_at: utc("9999-12-31T00:00:00Z"), energy_wh: 1 }],
    };
    let started = std::time::Instant::now();
    assert!(matches!(price(&tariff, &forever), Err(PricingError::InvalidSession(why)) if why.contains("31 days")));
    assert!(started.elapsed() < std::time::Duration::from_millis(100));
    // 31 days exactly is priced; a second more is not.
    let month = session(&[("2025-01-01 00:00", "2025-02-01 00:00", 1_000)], "2025-02-01 00:00", "2025-02-01 00:00");
    assert!(price(&tariff, &month).is_ok());
    let mut longer = month.clone();
    longer.unplugged_at += chrono::TimeDelta::seconds(1);
    assert!(matches!(price(&tariff, &longer), Err(PricingError::InvalidSession(_))));
    // At most 1000 periods.
    let start = at("2025-01-06 00:00");
    let periods = |count: i64| (0..count)
        .map(|i| ChargingPeriod { starts_at: start + chrono::TimeDelta::minutes(i), ends_at: start + chrono::TimeDelta::minutes(i + 1), energy_wh: 10 })
        .collect::<Vec<_>>();
    let mut many = Session { started_at: start, charging_ended_at: start + chrono::TimeDelta::minutes(1001), unplugged_at: start + chrono::TimeDelta::minutes(1001), time_zone: ZONE, periods: periods(1000) };
    assert!(price(&tariff, &many).is_ok());
    many.periods = periods(1001);
    assert!(matches!(price(&tariff, &many), Err(PricingError::InvalidSession(why)) if why.contains("1000")));
}

/// The largest tariff over the longest session with the most periods is priced well within
/// the rule's limits (2 s): each segment reads each element's restrictions once.
#[test]
fn the_largest_tariff_and_session_price_quickly() {
    let elements: Vec<serde_json::Value> = (0..limits::MAX_ELEMENTS)
        .map(|i| {
            let (hour, minute) = (i / 4 % 24, i % 4 * 15);
            json!({ "priceComponents": [{ "type": "ENERGY", "price": "0.30", "vat": "20" }, { "type": "TIME", "price": "1.00" },
                                        { "type": "PARKING_TIME", "price": "2.00" }],
                    "restrictions": { "startTime": format!("{hour:02}:{minute:02}"), "endTime": format!("{:02}:{minute:02}", (hour + 1) % 24),
                                      "minKwh": format!("{}", i * 3), "maxPower": format!("{}", 1000 - i),
                                      "dayOfWeek": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"] } })
        })
        .collect();
    let mut all = elements;
    all.push(json!({ "priceComponents": [{ "type": "ENERGY", "price": "0.25" }] }));
    all.truncate(limits::MAX_ELEMENTS);
    let tariff = energy_only(serde_json::Value::Array(all));
    let start = at("2025-01-06 00:00");
    let step = chrono::TimeDelta::minutes(44);
    let periods: Vec<ChargingPeriod> = (0..limits::MAX_PERIODS as i32)
        .map(|i| ChargingPeriod { starts_at: start + step * i, ends_at: start + step * (i + 1), energy_wh: 7_000 })
        .collect();
    let end = start + chrono::TimeDelta::days(limits::MAX_SESSION_DAYS);
    let session = Session { started_at: start, charging_ended_at: periods.last().unwrap().ends_at, unplugged_at: end, time_zone: ZONE, periods };
    let started = std::time::Instant::now();
    let breakdown = price(&tariff, &session).unwrap();
    assert!(breakdown.total_excl_vat > Decimal::ZERO);
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
}
