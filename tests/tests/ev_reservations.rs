//! Reservation rules through the platform: the overlap check under concurrent bookings,
//! cancellation, and no-show expiry by a timer.

use std::time::Duration;

use chrono::{SecondsFormat, TimeDelta, Utc};
use joule_tests::ev::{self, Monday, book, booking, get};
use joule_tests::{Joule, eventually, read, send_json};

/// Books the same slot `count` times at once; returns the statuses.
async fn simultaneous(joule: &Joule, station: &str, count: usize, monday: &Monday) -> Vec<u16> {
    let requests: Vec<_> = (0..count)
        .map(|i| {
            let body = booking(station, "1", &format!("driver-{i}"), &monday.text("12:00"), &monday.text("13:00"));
            let request = joule.operator().post(joule.url("/api/v1/reservations")).json(&body);
            tokio::spawn(async move { request.send().await.expect("POST /reservations").status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for request in requests {
        statuses.push(request.await.expect("the booking task"));
    }
    statuses.sort();
    statuses
}

#[tokio::test]
async fn simultaneous_bookings_of_one_slot_give_one_201_and_the_rest_409() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    // Wait for the reservations component's copy of the station with a booking elsewhere.
    let (status, _) = book(&joule, &booking(&station, "2", "driver-x", &monday.text("08:00"), &monday.text("09:00"))).await;
    assert_eq!(status, 201);

    for round in 0..3 {
        let monday = Monday::coming_plus_weeks(round + 1);
        assert_eq!(simultaneous(&joule, &station, 8, &monday).await, [201, 409, 409, 409, 409, 409, 409, 409], "round {round}");
    }
    // Two at once, as the issue puts it, on a fresh slot.
    let statuses = simultaneous(&joule, &station, 2, &Monday::coming_plus_weeks(5)).await;
    assert_eq!(statuses, [201, 409]);
}

#[tokio::test]
async fn a_cancelled_reservation_frees_its_slot_and_cannot_be_cancelled_twice() {
    let joule = Joule::platform().await;
    let monday = Monday::coming();
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let slot = booking(&station, "1", "driver-a", &monday.text("09:00"), &monday.text("10:00"));
    let (status, reservation) = book(&joule, &slot).await;
    assert_eq!(status, 201, "{reservation}");
    let path = format!("/api/v1/reservations/{}", reservation["id"].as_str().unwrap());

    let (status, cancelled) = read(joule.operator().delete(joule.url(&path)).send().await.unwrap()).await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    let (status, again) = read(joule.operator().delete(joule.url(&path)).send().await.unwrap()).await;
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("reservation_not_active")), "{again}");
    let (_, fetched) = get(&joule, &path).await;
    assert_eq!(fetched["status"], "cancelled");

    let (status, rebooked) = send_json(joule.operator().post(joule.url("/api/v1/reservations")), &slot).await;
    assert_eq!(status, 201, "the cancelled booking no longer holds the slot: {rebooked}");
    let (_, mine) = get(&joule, "/api/v1/reservations?driverId=driver-a").await;
    let statuses: Vec<_> = mine["items"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["cancelled", "confirmed"]);
    eventually("the cancellation notification", || async {
        let (_, inbox) = get(&joule, "/api/v1/notifications?recipient=driver-a").await;
        inbox["items"].as_array().unwrap().iter().any(|n| n["eventType"] == "reservation.cancelled.v1")
    })
    .await;
}

/// A booking of connector `connector` from now until `seconds` from now, by `driver`.
async fn book_ending_soon(joule: &Joule, station: &str, connector: &str, driver: &str, seconds: i64) -> serde_json::Value {
    let now = Utc::now();
    let text = |at: chrono::DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let slot = booking(station, connector, driver, &text(now), &text(now + TimeDelta::seconds(seconds)));
    let (status, reservation) = book(joule, &slot).await;
    assert_eq!(status, 201, "{reservation}");
    reservation
}

/// The notification event types `driver` has received so far.
async fn notified(joule: &Joule, driver: &str) -> Vec<String> {
    let (_, inbox) = get(joule, &format!("/api/v1/notifications?recipient={driver}")).await;
    inbox["items"].as_array().unwrap().iter().map(|n| n["eventType"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn a_reservation_without_a_session_expires_on_time_with_no_request_in_between() {
    let joule = Joule::with("spin.toml").env("JOULE_VARIABLE_NO_SHOW_GRACE_MINUTES", "0").ready().await;
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let reservation = book_ending_soon(&joule, &station, "1", "driver-late", 2).await;
    // Nothing reaches the platform until the grace has ended: only the no-show timer can
    // expire the booking and tell the driver.
    tokio::time::sleep(Duration::from_secs(4)).await;
    eventually("the expiry notification", || async {
        notified(&joule, "driver-late").await.iter().filter(|t| *t == "reservation.expired.v1").count() == 1
    })
    .await;
    let path = format!("/api/v1/reservations/{}", reservation["id"].as_str().unwrap());
    assert_eq!(get(&joule, &path).await.1["status"], "no_show");

    // A session can no longer start against it.
    let start = serde_json::json!({ "stationId": station, "connectorId": "1", "driverId": "driver-late",
                                    "reservationId": reservation["id"], "meterStartWh": 0 });
    let (status, refused) = send_json(joule.operator().post(joule.url("/api/v1/sessions")), &start).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (409, Some("reservation_not_active")), "{refused}");
}

#[tokio::test]
async fn a_cancelled_or_fulfilled_reservation_never_expires() {
    let joule = Joule::with("spin.toml").env("JOULE_VARIABLE_NO_SHOW_GRACE_MINUTES", "0").ready().await;
    let tariff = ev::create_tariff(&joule).await;
    let station = ev::create_station(&joule, &tariff).await;
    let cancelled = book_ending_soon(&joule, &station, "1", "driver-cancels", 2).await;
    let path = format!("/api/v1/reservations/{}", cancelled["id"].as_str().unwrap());
    let (status, _) = read(joule.operator().delete(joule.url(&path)).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let fulfilled = book_ending_soon(&joule, &station, "2", "driver-charges", 2).await;
    let start = serde_json::json!({ "stationId": station, "connectorId": "2", "driverId": "driver-charges",
                                    "reservationId": fulfilled["id"], "meterStartWh": 0 });
    let (status, session) = send_json(joule.operator().post(joule.url("/api/v1/sessions")), &start).await;
    assert_eq!(status, 201, "{session}");

    // Past both graces, and past the time a due timer takes to fire.
    tokio::time::sleep(Duration::from_secs(5)).await;
    eventually("the cancellation and session notifications", || async {
        notified(&joule, "driver-cancels").await.contains(&"reservation.cancelled.v1".to_string())
            && notified(&joule, "driver-charges").await.contains(&"charging.session.started.v1".to_string())
    })
    .await;
    for driver in ["driver-cancels", "driver-charges"] {
        let types = notified(&joule, driver).await;
        assert!(!types.contains(&"reservation.expired.v1".to_string()), "{driver} was told of an expiry: {types:?}");
    }
    assert_eq!(get(&joule, &path).await.1["status"], "cancelled");
}
