use serde_json::json;

use super::*;

fn details(body: &Value) -> Value {
    let error = tariff(body).unwrap_err();
    assert_eq!(error.status, 422);
    error.details.unwrap()
}

fn energy(price: Value) -> Value {
    json!({ "currency": "EUR", "elements": [{ "priceComponents": [{ "type": "ENERGY", "price": price }] }] })
}

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
    let details = details(&body);
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
    let body = energy(json!(0.25));
    assert_eq!(tariff(&body).unwrap()["rule"], "ocpi");
    let parsed: ocpi_tariff::Tariff = serde_json::from_value(tariff(&body).unwrap()).unwrap();
    assert_eq!(parsed.elements[0].price_components[0].price.to_string(), "0.25");
}

#[test]
fn refuses_magnitudes_the_engine_cannot_price() {
    let huge = details(&energy(json!("79000000000000000000000000000")));
    assert_eq!(huge["elements[0].priceComponents[0].price"], "must be from 0 to 1000000000");
    let body = json!({
        "currency": "EUR",
        "maxPrice": { "exclVat": "1e30", "inclVat": 1e30 },
        "elements": [{ "priceComponents": [{ "type": "TIME", "price": "1", "stepSize": 4_294_967_296u64 }],
                       "restrictions": { "minKwh": "2000000", "maxPower": "100000", "maxDuration": 18_446_744_073_709_551_615u64 } }]
    });
    let found = details(&body);
    for field in [
        "maxPrice.exclVat",
        "maxPrice.inclVat",
        "elements[0].priceComponents[0].stepSize",
        "elements[0].restrictions.minKwh",
        "elements[0].restrictions.maxPower",
        "elements[0].restrictions.maxDuration",
    ] {
        assert!(found[field].is_string(), "{field} missing from {found}");
    }
}

#[test]
fn refuses_control_characters_and_oversized_lists() {
    let mut body = energy(json!("0.25"));
    body["name"] = json!("night\u{0}rate");
    body["elements"][0]["restrictions"] = json!({ "dayOfWeek": ["MONDAY", "MONDAY", "MONDAY", "MONDAY", "MONDAY", "MONDAY", "MONDAY", "MONDAY"] });
    body["ruleOptions"] = json!({ "padding": "x".repeat(MAX_RULE_OPTIONS_BYTES) });
    let found = details(&body);
    assert_eq!(found["name"], "must not contain control characters");
    assert!(found["elements[0].restrictions.dayOfWeek"].is_string(), "{found}");
    assert!(found["ruleOptions"].is_string(), "{found}");

    let element = json!({ "priceComponents": [{ "type": "ENERGY", "price": "0.25" }] });
    let many = json!({ "currency": "EUR", "elements": vec![element.clone(); 10_000] });
    assert_eq!(details_of(&many), json!({ "elements": "must list at most 100 items" }), "one problem, not one per element");
    let crowded = json!({ "currency": "EUR", "elements": [{ "priceComponents": vec![element["priceComponents"][0].clone(); 9] }] });
    assert!(details_of(&crowded)["elements[0].priceComponents"].is_string());
}

fn details_of(body: &Value) -> Value {
    details(body)
}

/// The largest tariff accepted, every field at its longest, is priced by the engine and its
/// event (the tariff with id, version and time) fits the host's 256 KiB event limit.
#[test]
fn the_largest_valid_tariff_fits_in_an_event() {
    let long_decimal = format!("1.{}", "0".repeat(joule_sdk::api::MAX_DECIMAL_CHARS - 2));
    let component = |dimension: &str| json!({ "type": dimension, "price": long_decimal, "vat": long_decimal, "stepSize": MAX_STEP_SIZE });
    let dimensions = ["PARKING_TIME", "ENERGY", "FLAT", "TIME"];
    let element = json!({
        "priceComponents": (0..MAX_PRICE_COMPONENTS).map(|i| component(dimensions[i % 4])).collect::<Vec<_>>(),
        "restrictions": {
            "startTime": "17:00", "endTime": "21:00", "startDate": "2026-01-01", "endDate": "2027-01-01",
            "minKwh": long_decimal, "maxKwh": long_decimal, "minPower": long_decimal, "maxPower": long_decimal,
            "minDuration": MAX_SESSION_SECONDS, "maxDuration": MAX_SESSION_SECONDS, "dayOfWeek": DAYS,
        }
    });
    let quotes = "\"".repeat(MAX_NAME);
    let options = json!({ "o": "x".repeat(MAX_RULE_OPTIONS_BYTES - 10) });
    let body = json!({
        "name": quotes, "currency": "EUR", "rule": "r".repeat(MAX_RULE), "ruleOptions": options,
        "elements": vec![element; MAX_ELEMENTS],
        "minPrice": { "exclVat": long_decimal, "inclVat": long_decimal },
        "maxPrice": { "exclVat": long_decimal, "inclVat": long_decimal },
        "startDateTime": "2026-01-01T00:00:00.000000000+01:00", "endDateTime": "2027-01-01T00:00:00.000000000+01:00",
    });
    let mut event = tariff(&body).expect("the largest tariff is valid");
    event["id"] = json!("01a2010d-5cab-711c-9cbf-4e4fb334d241");
    event["version"] = json!(i32::MAX);
    event["createdAt"] = json!("2026-11-23T10:00:00.000Z");
    let size = serde_json::to_vec(&event).unwrap().len();
    assert!(size < 256 * 1024, "the largest tariff's event is {size} bytes");
    let parsed: ocpi_tariff::Tariff = serde_json::from_value(event).expect("the engine reads it");
    assert_eq!(parsed.elements.len(), MAX_ELEMENTS);
}

#[test]
fn times_and_dates_have_exactly_their_shape() {
    assert!(shaped("09:00", "00:00") && shaped("2026-01-31", "0000-00-00"));
    for (time, date) in [("9:0", "2026-1-1"), ("9:00", "+2026-01-1"), ("0900", "26-01-01")] {
        let mut body = energy(json!("0.25"));
        body["elements"][0]["restrictions"] = json!({ "startTime": time, "startDate": date });
        let found = details(&body);
        assert!(found["elements[0].restrictions.startTime"].is_string(), "{time}: {found}");
        assert!(found["elements[0].restrictions.startDate"].is_string(), "{date}: {found}");
    }
}
