//! Who may do what in the EV platform (DOMAIN.md): anyone reads stations and tariffs and asks
//! for quotes; operators write them; a driver's reservations, sessions, invoices, payments and
//! notifications are theirs alone, and operators may act for any driver.

use joule_tests::ev::{self, Monday, book_as, booking, get_as};
use joule_tests::{Joule, client, eventually, read, send_json};
use serde_json::{Value, json};

/// The error code of an answer, with its status.
fn refused(answer: &(u16, Value)) -> (u16, &str) {
    (answer.0, answer.1["error"]["code"].as_str().unwrap_or_default())
}

#[tokio::test]
async fn anyone_reads_stations_and_tariffs_and_quotes_but_only_operators_write_them() {
    let joule = Joule::platform().await;
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let anonymous = client();
    for path in ["/api/v1/stations".to_string(), format!("/api/v1/stations/{station}"), format!("/api/v1/tariffs/{tariff}")] {
        let (status, body) = get_as(&anonymous, &joule, &path).await;
        assert_eq!(status, 200, "GET {path} without a token: {body}");
    }
    let monday = Monday::coming();
    let quote = json!({ "tariffId": tariff, "session": { "startedAt": monday.text("10:00"), "timeZone": ev::TIME_ZONE,
        "periods": [{ "startsAt": monday.text("10:00"), "endsAt": monday.text("11:00"), "energyWh": 10000 }] } });
    let (status, priced) = send_json(anonymous.post(joule.url("/api/v1/pricing/quote")), &quote).await;
    let total: Option<rust_decimal::Decimal> = priced["totalExclVat"].as_str().and_then(|t| t.parse().ok());
    assert_eq!((status, total), (200, Some(rust_decimal::Decimal::new(3, 0))), "10 kWh at 0.25 and 0.50 flat: {priced}");

    let driver = joule.driver("driver-ada");
    let writes = [
        ("POST", "/api/v1/stations".to_string(), ev::station(&tariff)),
        ("PATCH", format!("/api/v1/stations/{station}"), json!({ "name": "Mine now" })),
        ("PUT", format!("/api/v1/stations/{station}/connectors/1/status"), json!({ "status": "Faulted" })),
        ("DELETE", format!("/api/v1/stations/{station}"), Value::Null),
        ("POST", "/api/v1/tariffs".to_string(), ev::worked_example_tariff()),
        ("PUT", format!("/api/v1/tariffs/{tariff}"), ev::worked_example_tariff()),
    ];
    for (method, path, body) in &writes {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        for (who, http, expected) in [("anonymous", &anonymous, (401, "unauthorized")), ("a driver", &driver, (403, "forbidden"))] {
            let answer = send_json(http.request(method.clone(), joule.url(path)), body).await;
            assert_eq!(refused(&answer), expected, "{method} {path} by {who}: {}", answer.1);
        }
    }
    let (_, unchanged) = get_as(&anonymous, &joule, &format!("/api/v1/stations/{station}")).await;
    assert_eq!((unchanged["name"].as_str(), unchanged["connectors"][0]["status"].as_str()), (Some("Harbour Hub"), Some("Available")));
}

#[tokio::test]
async fn a_drivers_things_need_a_token_with_a_platform_role() {
    let joule = Joule::platform().await;
    let anonymous = client();
    let no_role = joule_tests::client_with_token(&joule.token("someone", &[]));
    for path in ["/api/v1/reservations", "/api/v1/invoices", "/api/v1/notifications"] {
        let response = anonymous.get(joule.url(path)).send().await.unwrap();
        let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string());
        assert_eq!((response.status().as_u16(), challenge.as_deref()), (401, Some("Bearer realm=\"joule\"")), "{path}");
        let answer = read(no_role.get(joule.url(path)).send().await.unwrap()).await;
        assert_eq!(refused(&answer), (403, "forbidden"), "{path} with a token that has no role: {}", answer.1);
    }
}

#[tokio::test]
async fn a_driver_sees_and_acts_on_only_their_own_things_and_an_operator_on_anyones() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let (ada, bob, operator) = (joule.driver("driver-ada"), joule.driver("driver-bob"), joule.operator());

    // Ada books without naming herself: the booking is hers. Bob may not book in her name.
    let slot = json!({ "stationId": station, "connectorId": "1", "startsAt": monday.text("10:00"), "endsAt": monday.text("11:00") });
    let (status, reservation) = book_as(&ada, &joule, &slot).await;
    assert_eq!((status, reservation["driverId"].as_str()), (201, Some("driver-ada")), "{reservation}");
    let reservation_path = format!("/api/v1/reservations/{}", reservation["id"].as_str().unwrap());
    let in_her_name = booking(&station, "2", "driver-ada", &monday.text("10:00"), &monday.text("11:00"));
    let answer = book_as(&bob, &joule, &in_her_name).await;
    assert_eq!(refused(&answer), (403, "forbidden"), "{}", answer.1);
    assert_eq!(answer.1["error"]["details"]["driverId"], "names another driver");

    // Bob cannot see, list or cancel it: to him it does not exist.
    assert_eq!(refused(&get_as(&bob, &joule, &reservation_path).await), (404, "not_found"));
    assert_eq!(refused(&read(bob.delete(joule.url(&reservation_path)).send().await.unwrap()).await), (404, "not_found"));
    assert_eq!(refused(&get_as(&bob, &joule, "/api/v1/reservations?driverId=driver-ada").await), (403, "forbidden"));
    let (status, his) = get_as(&bob, &joule, "/api/v1/reservations").await;
    assert_eq!((status, his["items"].as_array().map(Vec::len)), (200, Some(0)), "{his}");
    let (_, hers) = get_as(&ada, &joule, "/api/v1/reservations").await;
    assert_eq!(hers["items"][0]["id"], reservation["id"], "{hers}");
    let (status, for_ada) = get_as(&operator, &joule, &reservation_path).await;
    assert_eq!((status, for_ada["status"].as_str()), (200, Some("confirmed")), "an operator sees anyone's");

    // Her session on the reservation: Bob can neither read, meter nor stop it.
    let start = json!({ "stationId": station, "connectorId": "1", "reservationId": reservation["id"], "meterStartWh": 0,
                        "startedAt": monday.text("10:05") });
    let (status, session) = send_json(ada.post(joule.url("/api/v1/sessions")), &start).await;
    assert_eq!((status, session["driverId"].as_str()), (201, Some("driver-ada")), "{session}");
    let session_path = format!("/api/v1/sessions/{}", session["id"].as_str().unwrap());
    assert_eq!(refused(&get_as(&bob, &joule, &session_path).await), (404, "not_found"));
    let reading = json!({ "timestamp": monday.text("10:30"), "energyWh": 5000 });
    let answer = send_json(bob.post(joule.url(&format!("{session_path}/meter-values"))), &reading).await;
    assert_eq!(refused(&answer), (404, "not_found"));
    let stop = json!({ "meterStopWh": 10000, "stoppedAt": monday.text("11:00") });
    assert_eq!(refused(&send_json(bob.post(joule.url(&format!("{session_path}/stop"))), &stop).await), (404, "not_found"));
    let (status, stopped) = send_json(ada.post(joule.url(&format!("{session_path}/stop"))), &stop).await;
    assert_eq!((status, stopped["status"].as_str()), (200, Some("completed")), "{stopped}");

    // Her invoice: Bob neither sees nor pays it, nor lists it by session or by her name.
    let by_session = format!("/api/v1/invoices?sessionId={}", session["id"].as_str().unwrap());
    eventually("the invoice", || async { get_as(&ada, &joule, &by_session).await.1["items"].as_array().is_some_and(|i| !i.is_empty()) })
        .await;
    let invoice = get_as(&ada, &joule, &by_session).await.1["items"][0].clone();
    let invoice_path = format!("/api/v1/invoices/{}", invoice["id"].as_str().unwrap());
    assert_eq!(refused(&get_as(&bob, &joule, &invoice_path).await), (404, "not_found"));
    assert_eq!(refused(&send_json(bob.post(joule.url(&format!("{invoice_path}/pay"))), &json!({})).await), (404, "not_found"));
    let (status, seen) = get_as(&bob, &joule, &by_session).await;
    assert_eq!((status, seen["items"].as_array().map(Vec::len)), (200, Some(0)), "{seen}");
    assert_eq!(refused(&get_as(&bob, &joule, "/api/v1/invoices?driverId=driver-ada").await), (403, "forbidden"));
    let (status, paid) = send_json(ada.post(joule.url(&format!("{invoice_path}/pay"))), &json!({})).await;
    assert_eq!((status, paid["status"].as_str()), (200, Some("paid")), "{paid}");

    // Her notifications are hers; Bob may not ask for them.
    assert_eq!(refused(&get_as(&bob, &joule, "/api/v1/notifications?recipient=driver-ada").await), (403, "forbidden"));
    eventually("her notifications", || async {
        get_as(&ada, &joule, "/api/v1/notifications").await.1["items"].as_array().is_some_and(|n| n.len() >= 4)
    })
    .await;
    let (_, theirs) = get_as(&bob, &joule, "/api/v1/notifications").await;
    assert_eq!(theirs["items"], json!([]), "{theirs}");
    let (_, everyone) = get_as(&operator, &joule, "/api/v1/notifications").await;
    assert!(everyone["items"].as_array().unwrap().iter().all(|n| n["recipient"] == "driver-ada"), "{everyone}");

    // Nothing Bob tried changed anything.
    let (_, after) = get_as(&ada, &joule, &reservation_path).await;
    assert_eq!(after["status"], "fulfilled", "{after}");
}
