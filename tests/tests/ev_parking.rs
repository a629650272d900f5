//! The parking component against the real platform: slot assignment under simultaneous
//! arrivals, EV slots with connectors first, leaving, the CSV export against the status,
//! the events billing relies on, and refusals of bad input and of callers who are not operators.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr as _;

use chrono::{SecondsFormat, TimeDelta, Utc};
use futures::future::join_all;
use joule_tests::{Joule, State, client, read, send_json};
use serde_json::{Value, json};
use sqlx::{ConnectOptions as _, Row as _};

const LOTS: &str = "/api/v1/parking/lots";

fn slot(slot_id: &str, level: &str, kind: &str, size: &str) -> Value {
    json!({ "slotId": slot_id, "level": level, "kind": kind, "size": size })
}

fn charger(slot_id: &str, level: &str, size: &str, connector_id: &str) -> Value {
    let mut slot = slot(slot_id, level, "EV", size);
    slot["connector"] = json!({ "stationId": "station-1", "connectorId": connector_id });
    slot
}

fn vehicle(regnum: &str, kind: &str, size: &str) -> Value {
    json!({ "regnum": regnum, "kind": kind, "size": size })
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn ago(minutes: i64) -> String {
    (Utc::now() - TimeDelta::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Creates a lot with `slots` as the operator; returns it.
async fn create_lot(joule: &Joule, slots: Vec<Value>) -> Value {
    let body = json!({ "name": "Harbour Garage", "slots": slots });
    let (status, lot) = send_json(joule.operator().post(joule.url(LOTS)), &body).await;
    assert_eq!(status, 201, "{lot}");
    lot
}

async fn post(joule: &Joule, lot: &Value, action: &str, body: &Value) -> (u16, Value) {
    let path = format!("{LOTS}/{}/{action}", lot["id"].as_str().expect("lot id"));
    send_json(joule.operator().post(joule.url(&path)), body).await
}

async fn get(joule: &Joule, path: &str) -> (u16, Value) {
    read(joule.operator().get(joule.url(path)).send().await.expect("GET")).await
}

#[tokio::test]
async fn twenty_simultaneous_arrivals_for_ten_fitting_slots_get_ten_slots_and_ten_lot_full() {
    let joule = Joule::platform().await;
    for round in 0..3 {
        // Ten slots take an ICE car; the EV slots and the motorbike slots do not.
        let mut slots: Vec<Value> = (0..10).map(|i| slot(&format!("C{i}"), "P1", "ICE", "CAR")).collect();
        slots.extend((0..3).map(|i| charger(&format!("E{i}"), "P1", "VAN", &i.to_string())));
        slots.extend((0..3).map(|i| slot(&format!("M{i}"), "P2", "ICE", "MOTORBIKE")));
        let lot = create_lot(&joule, slots).await;
        let vehicles: Vec<Value> = (0..20).map(|i| vehicle(&format!("R{round}X{i}"), "ICE", "CAR")).collect();
        let answers = join_all(vehicles.iter().map(|body| post(&joule, &lot, "park", body))).await;

        let parked: Vec<&Value> = answers.iter().filter(|(status, _)| *status == 201).map(|(_, body)| body).collect();
        let full = answers.iter().filter(|(status, body)| *status == 409 && code(body) == "lot_full").count();
        assert_eq!((parked.len(), full), (10, 10), "round {round}: {answers:?}");
        let slot_ids: HashSet<&str> = parked.iter().map(|p| p["slotId"].as_str().unwrap()).collect();
        let fitting: HashSet<String> = (0..10).map(|i| format!("C{i}")).collect();
        assert_eq!(slot_ids.len(), 10, "each arrival got a slot of its own: {parked:?}");
        assert!(slot_ids.iter().all(|id| fitting.contains(*id)), "only fitting slots were given: {slot_ids:?}");

        let (_, status) = get(&joule, &format!("{LOTS}/{}/status", lot["id"].as_str().unwrap())).await;
        assert_eq!(
            (status["total"].as_u64(), status["occupied"].as_u64(), status["free"].as_u64()),
            (Some(16), Some(10), Some(6))
        );
    }
}

#[tokio::test]
async fn one_plate_reported_by_several_gates_at_once_is_parked_once() {
    let joule = Joule::platform().await;
    let lot = create_lot(&joule, (0..10).map(|i| slot(&format!("C{i}"), "P1", "ICE", "CAR")).collect()).await;
    let writings = ["AB-12-CD", "ab12cd", "AB 12 CD", "Ab12-Cd", "AB12CD", "ab 12-cd"];
    let vehicles: Vec<Value> = writings.iter().map(|regnum| vehicle(regnum, "ICE", "CAR")).collect();
    let answers = join_all(vehicles.iter().map(|body| post(&joule, &lot, "park", body))).await;
    let mut outcomes: Vec<(u16, &str)> = answers.iter().map(|(status, body)| (*status, code(body))).collect();
    outcomes.sort_unstable();
    assert_eq!(
        outcomes,
        [
            (201, ""),
            (409, "already_parked"),
            (409, "already_parked"),
            (409, "already_parked"),
            (409, "already_parked"),
            (409, "already_parked")
        ],
        "{answers:?}"
    );
    let (_, status) = get(&joule, &format!("{LOTS}/{}/status", lot["id"].as_str().unwrap())).await;
    assert_eq!(status["occupied"], 1, "{status}");
}

#[tokio::test]
async fn a_lot_of_the_most_slots_is_kept_whole_and_in_order() {
    let joule = Joule::platform().await;
    let slots: Vec<Value> =
        (0..5000).map(|i| slot(&format!("S{i:04}"), &format!("L{}", i / 500), "ICE", "CAR")).collect();
    let lot = create_lot(&joule, slots).await;
    assert_eq!(lot["totalSlots"], 5000);
    assert_eq!(lot["levels"].as_array().unwrap().len(), 10);
    let (_, shown) = get(&joule, &format!("{LOTS}/{}", lot["id"].as_str().unwrap())).await;
    let ids: Vec<&str> = shown["slots"].as_array().unwrap().iter().map(|s| s["slotId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 5000);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "the slots come back in the order given");
    let (status, parked) = post(&joule, &lot, "park", &vehicle("BIG1", "ICE", "CAR")).await;
    assert_eq!(
        (status, parked["slotId"].as_str(), parked["level"].as_str()),
        (201, Some("S0000"), Some("L0")),
        "{parked}"
    );
    let too_many: Vec<Value> = (0..5001).map(|i| slot(&i.to_string(), "0", "ICE", "CAR")).collect();
    let (status, refused) =
        send_json(joule.operator().post(joule.url(LOTS)), &json!({ "name": "Huge", "slots": too_many })).await;
    assert_eq!(status, 422, "{refused}");
}

#[tokio::test]
async fn an_ev_gets_a_connector_first_and_leaving_frees_its_slot() {
    let joule = Joule::platform().await;
    let lot = create_lot(
        &joule,
        vec![
            slot("ice-1", "P1", "ICE", "CAR"),
            slot("ev-plain", "P1", "EV", "CAR"),
            charger("ev-van", "P1", "VAN", "2"),
            charger("ev-car", "P2", "CAR", "1"),
        ],
    )
    .await;
    assert_eq!(lot["levels"], json!(["P1", "P2"]));
    assert!(lot["slots"].as_array().unwrap().iter().all(|s| s["occupied"] == false), "{lot}");

    // The smallest slot with a connector, the bigger one, an EV slot without, then an ICE slot.
    let mut given = Vec::new();
    // One clock reading for both ends, so the duration is exact.
    let left_at = ago(0);
    let parked_at = (chrono::DateTime::parse_from_rfc3339(&left_at).unwrap() - TimeDelta::minutes(90))
        .with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    for regnum in ["ab-12 cd", "EV2", "EV3", "EV4"] {
        let mut arrival = vehicle(regnum, "EV", "CAR");
        if regnum == "ab-12 cd" {
            arrival["parkedAt"] = json!(parked_at);
        }
        let (status, parked) = post(&joule, &lot, "park", &arrival).await;
        assert_eq!(status, 201, "{parked}");
        given.push(parked["slotId"].as_str().unwrap().to_string());
    }
    assert_eq!(given, ["ev-car", "ev-van", "ev-plain", "ice-1"]);
    let (status, full) = post(&joule, &lot, "park", &vehicle("EV5", "EV", "MOTORBIKE")).await;
    assert_eq!((status, code(&full)), (409, "lot_full"), "{full}");
    let (status, again) = post(&joule, &lot, "park", &vehicle("AB12CD", "EV", "CAR")).await;
    assert_eq!((status, code(&again)), (409, "already_parked"), "the plate in another form is the same plate: {again}");

    let (_, shown) = get(&joule, &format!("{LOTS}/{}", lot["id"].as_str().unwrap())).await;
    let ev_car = shown["slots"].as_array().unwrap().iter().find(|s| s["slotId"] == "ev-car").unwrap();
    assert_eq!((ev_car["occupied"].as_bool(), ev_car["vehicle"]["regnum"].as_str()), (Some(true), Some("AB12CD")));
    assert_eq!(ev_car["connector"], json!({ "stationId": "station-1", "connectorId": "1" }));

    let (status, left) = post(&joule, &lot, "leave", &json!({ "regnum": "AB-12-CD", "leftAt": left_at })).await;
    assert_eq!(status, 200, "{left}");
    assert_eq!(
        (left["slotId"].as_str(), left["regnum"].as_str(), left["kind"].as_str()),
        (Some("ev-car"), Some("AB12CD"), Some("EV"))
    );
    assert_eq!(left["durationSeconds"], 90 * 60, "{left}");
    let (status, gone) = post(&joule, &lot, "leave", &json!({ "regnum": "AB12CD" })).await;
    assert_eq!((status, code(&gone)), (404, "not_parked"), "{gone}");

    // The freed connector goes to the next EV.
    let (status, next) = post(&joule, &lot, "park", &vehicle("EV5", "EV", "MOTORBIKE")).await;
    assert_eq!((status, next["slotId"].as_str()), (201, Some("ev-car")), "{next}");
    // Leaving without a time leaves now.
    let (status, left) = post(&joule, &lot, "leave", &json!({ "regnum": "EV2" })).await;
    assert_eq!((status, left["slotId"].as_str()), (200, Some("ev-van")), "{left}");
    assert!(left["durationSeconds"].as_i64().is_some_and(|s| (0..60).contains(&s)), "{left}");
}

#[tokio::test]
async fn the_csv_export_lists_every_slot_and_agrees_with_the_status() {
    let joule = Joule::platform().await;
    let lot = create_lot(
        &joule,
        vec![
            charger("A,1", "P1", "CAR", "1"),
            slot("A\"2\"", "P1", "ICE", "CAR"),
            slot("B1", "Roof, open", "ICE", "VAN"),
            slot("B2", "Roof, open", "EV", "CAR"),
            slot("B3", "Roof, open", "ICE", "MOTORBIKE"),
        ],
    )
    .await;
    for (regnum, kind, size) in [("EV1", "EV", "CAR"), ("ICE1", "ICE", "CAR"), ("BIKE1", "ICE", "MOTORBIKE")] {
        assert_eq!(post(&joule, &lot, "park", &vehicle(regnum, kind, size)).await.0, 201);
    }
    let id = lot["id"].as_str().unwrap();
    let response = joule.operator().get(joule.url(&format!("{LOTS}/{id}/export.csv"))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let rows = joule_tests::csv_rows(&response.text().await.unwrap());

    assert_eq!(
        rows[0],
        ["slotId", "level", "kind", "size", "stationId", "connectorId", "occupied", "regnum", "parkedAt"]
    );
    let slot_ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(slot_ids, ["A,1", "A\"2\"", "B1", "B2", "B3"], "every slot, in the lot's order");
    let row = |slot_id: &str| rows.iter().find(|r| r[0] == slot_id).unwrap();
    assert_eq!(row("A,1")[1..8], ["P1", "EV", "CAR", "station-1", "1", "true", "EV1"]);
    assert!(chrono::DateTime::parse_from_rfc3339(&row("A,1")[8]).is_ok(), "{:?}", row("A,1"));
    assert_eq!(row("B1")[6..], ["false", "", ""]);
    assert_eq!(row("B3")[7], "BIKE1", "the motorbike takes the smallest ICE slot");

    // The same occupancy, per level and kind, as /status.
    let mut counted: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for row in &rows[1..] {
        let counts = counted.entry((row[1].clone(), row[2].clone())).or_default();
        counts.0 += 1;
        counts.1 += u64::from(row[6] == "true");
    }
    let (_, status) = get(&joule, &format!("{LOTS}/{id}/status")).await;
    let mut reported = BTreeMap::new();
    for level in status["levels"].as_array().unwrap() {
        for kind in level["kinds"].as_array().unwrap() {
            assert_eq!(
                kind["free"].as_u64().unwrap(),
                kind["total"].as_u64().unwrap() - kind["occupied"].as_u64().unwrap()
            );
            if kind["total"] != 0 {
                let key = (level["level"].as_str().unwrap().to_string(), kind["kind"].as_str().unwrap().to_string());
                reported.insert(key, (kind["total"].as_u64().unwrap(), kind["occupied"].as_u64().unwrap()));
            }
        }
    }
    assert_eq!(counted, reported, "{status}");
    assert_eq!(
        (status["total"].as_u64(), status["occupied"].as_u64(), status["free"].as_u64()),
        (Some(5), Some(3), Some(2))
    );
}

#[tokio::test]
async fn bad_input_is_422_unknown_lots_404_and_only_operators_may_park() {
    let joule = Joule::platform().await;
    let ops = joule.operator();
    let bad_lot = json!({
        "name": "",
        "freeMinutes": -1,
        "timeZone": "Mars/Olympus",
        "slots": [slot("A1", "P1", "EV", "CAR"), slot("A2", "P1", "DIESEL", "CAR"), slot("A1", "P1", "ICE", "BUS")]
    });
    let (status, refused) = send_json(ops.post(joule.url(LOTS)), &bad_lot).await;
    assert_eq!((status, code(&refused)), (422, "validation_failed"), "{refused}");
    let details = &refused["error"]["details"];
    for field in ["name", "freeMinutes", "timeZone", "slots[1].kind", "slots[2].slotId", "slots[2].size"] {
        assert!(details[field].is_string(), "{field} is not named: {details}");
    }
    let (status, _) = send_json(ops.post(joule.url(LOTS)), &json!({ "name": "Empty", "slots": [] })).await;
    assert_eq!(status, 422);
    let response = ops.post(joule.url(LOTS)).header("content-type", "application/json").body("{").send().await.unwrap();
    assert_eq!(response.status(), 400);

    let unknown = format!("{LOTS}/01a201af-0000-7000-8000-000000000000");
    for path in
        [unknown.clone(), format!("{unknown}/status"), format!("{unknown}/export.csv"), format!("{LOTS}/not-a-uuid")]
    {
        let (status, body) = get(&joule, &path).await;
        assert_eq!((status, code(&body)), (404, "not_found"), "{path}: {body}");
    }
    let (status, body) = send_json(ops.post(joule.url(&format!("{unknown}/park"))), &vehicle("X1", "EV", "CAR")).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");

    let lot = create_lot(&joule, vec![slot("A1", "P1", "ICE", "CAR")]).await;
    let future = (Utc::now() + TimeDelta::hours(1)).to_rfc3339();
    let (status, refused) =
        post(&joule, &lot, "park", &json!({ "regnum": "X.1", "kind": "LPG", "parkedAt": future })).await;
    assert_eq!(status, 422, "{refused}");
    for field in ["regnum", "kind", "size", "parkedAt"] {
        assert!(refused["error"]["details"][field].is_string(), "{field} is not named: {refused}");
    }
    let (status, body) = post(&joule, &lot, "leave", &json!({ "regnum": "NOPE1" })).await;
    assert_eq!((status, code(&body)), (404, "not_parked"), "{body}");
    let (status, _) =
        post(&joule, &lot, "park", &json!({ "regnum": "X1", "kind": "ICE", "size": "CAR", "parkedAt": ago(10) })).await;
    assert_eq!(status, 201);
    let (status, body) = post(&joule, &lot, "leave", &json!({ "regnum": "X1", "leftAt": ago(20) })).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["details"]["leftAt"].is_string(), "{body}");

    // The route is the operators'; a driver is refused whatever they ask, an anonymous caller too.
    let driver = joule.driver("ada");
    let (status, body) = read(driver.get(joule.url(LOTS)).send().await.unwrap()).await;
    assert_eq!(status, 403, "{body}");
    let park = format!("{LOTS}/{}/park", lot["id"].as_str().unwrap());
    let (status, _) = send_json(driver.post(joule.url(&park)), &vehicle("ADA1", "EV", "CAR")).await;
    assert_eq!(status, 403);
    let (status, _) =
        send_json(driver.post(joule.url(LOTS)), &json!({ "name": "Mine", "slots": [slot("1", "0", "ICE", "CAR")] }))
            .await;
    assert_eq!(status, 403);
    assert_eq!(client().get(joule.url(LOTS)).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn lots_are_listed_a_page_at_a_time_in_creation_order() {
    let joule = Joule::platform().await;
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(create_lot(&joule, vec![slot("A1", "P1", "ICE", "CAR")]).await["id"].clone());
    }
    let (status, first) = get(&joule, &format!("{LOTS}?limit=2")).await;
    assert_eq!(status, 200, "{first}");
    let ids = |page: &Value| page["items"].as_array().unwrap().iter().map(|l| l["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), created[..2]);
    assert_eq!(first["items"][0]["totalSlots"], 1);
    assert!(first["items"][0].get("slots").is_none(), "a list leaves the slots out: {first}");
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let (_, second) = get(&joule, &format!("{LOTS}?limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&second), created[2..]);
    assert_eq!(second["nextCursor"], Value::Null);
    assert_eq!(get(&joule, &format!("{LOTS}?limit=0")).await.0, 422);
}

/// The parking events, read from the outbox of a host that relays none.
async fn published(state: &State) -> Vec<(String, Value)> {
    let rows: Vec<(String, String)> = match state.database_url() {
        Some(url) => {
            let mut connection = sqlx::postgres::PgConnectOptions::from_str(&url).unwrap().connect().await.unwrap();
            let rows = sqlx::query(
                "SELECT type, data::text AS data FROM joule.outbox WHERE type LIKE 'parking.%' ORDER BY seq",
            )
            .fetch_all(&mut connection)
            .await
            .unwrap();
            rows.iter().map(|row| (row.get("type"), row.get("data"))).collect()
        }
        None => {
            let path = state.path().join("joule/databases/parking.db");
            let options =
                sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display())).unwrap();
            let mut connection = options.read_only(true).connect().await.unwrap();
            let rows = sqlx::query("SELECT type, data FROM _joule_outbox ORDER BY seq")
                .fetch_all(&mut connection)
                .await
                .unwrap();
            rows.iter().map(|row| (row.get("type"), row.get("data"))).collect()
        }
    };
    rows.into_iter().map(|(kind, data)| (kind, serde_json::from_str(&data).unwrap())).collect()
}

#[tokio::test]
async fn the_left_event_carries_the_stay_and_the_lots_terms_for_billing() {
    let state = State::new();
    let joule = Joule::with("spin.toml").state(&state).arg("--no-relay").ready().await;
    let body = json!({
        "name": "Harbour Garage", "timeZone": "Europe/Amsterdam", "tariffId": "parking-tariff", "freeMinutes": 15,
        "defaultAccount": "fleet-desk", "slots": [charger("A1", "P1", "CAR", "1")]
    });
    let (status, lot) = send_json(joule.operator().post(joule.url(LOTS)), &body).await;
    assert_eq!(status, 201, "{lot}");
    let plain = create_lot(&joule, vec![slot("B1", "0", "ICE", "CAR")]).await;
    let parked_at = ago(45);
    let (_, parked) =
        post(&joule, &lot, "park", &json!({ "regnum": "ab 12", "kind": "EV", "size": "CAR", "parkedAt": parked_at }))
            .await;
    let (status, left) = post(&joule, &lot, "leave", &json!({ "regnum": "AB12" })).await;
    assert_eq!(status, 200, "{left}");
    assert_eq!(post(&joule, &plain, "park", &vehicle("ICE1", "ICE", "CAR")).await.0, 201);
    assert_eq!(post(&joule, &plain, "leave", &json!({ "regnum": "ICE1" })).await.0, 200);

    let events = published(&state).await;
    let types: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        types,
        [
            "parking.vehicle-parked.v1",
            "parking.vehicle-left.v1",
            "parking.vehicle-parked.v1",
            "parking.vehicle-left.v1"
        ]
    );
    let parked_event = &events[0].1;
    assert_eq!(parked_event, &parked, "the event is what the caller was told");
    for field in ["lotId", "slotId", "level", "regnum", "kind", "size", "parkedAt"] {
        assert!(!parked_event[field].is_null(), "{field}: {parked_event}");
    }
    let left_event = &events[1].1;
    for field in
        ["stayId", "lotId", "slotId", "level", "regnum", "kind", "size", "parkedAt", "leftAt", "durationSeconds"]
    {
        assert_eq!(left_event[field], left[field], "{field}: {left_event}");
    }
    assert_eq!(left_event["regnum"], "AB12");
    assert!(left_event["durationSeconds"].as_i64().is_some_and(|s| (45 * 60..46 * 60).contains(&s)), "{left_event}");
    assert_eq!(
        (&left_event["tariffId"], &left_event["freeMinutes"], &left_event["defaultAccount"], &left_event["timeZone"]),
        (&json!("parking-tariff"), &json!(15), &json!("fleet-desk"), &json!("Europe/Amsterdam"))
    );
    let plain_left = &events[3].1;
    assert_eq!(
        (&plain_left["tariffId"], &plain_left["freeMinutes"], &plain_left["defaultAccount"], &plain_left["timeZone"]),
        (&Value::Null, &json!(0), &Value::Null, &json!("UTC")),
        "a lot without terms: {plain_left}"
    );
}
