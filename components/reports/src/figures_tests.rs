use chrono::DateTime;

use super::*;
use crate::model::{Completion, Invoice, Payment, Period, Station};

const HOUR_US: i64 = 3_600_000_000;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn days(dates: &[&str]) -> BTreeSet<NaiveDate> {
    dates.iter().map(|d| date(d)).collect()
}

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

const STATION: Uuid = Uuid::from_u128(0xA);

fn station(zone: &str) -> Station {
    Station { id: STATION, name: "Harbour Hub".into(), time_zone: zone.into() }
}

fn session(id: u128, start: &str, charging_end: &str, unplugged: &str, energy_wh: i64, periods: Vec<Period>) -> Session {
    Session {
        id: Uuid::from_u128(id),
        station_id: STATION,
        connector_id: "1".into(),
        time_zone: "Asia/Tokyo".into(),
        started_at: at(start),
        completion: Some(Completion { charging_ended_at: at(charging_end), unplugged_at: at(unplugged), energy_wh, periods }),
    }
}

fn period(from: &str, to: &str, energy_wh: i64) -> Period {
    Period { starts_at: at(from), ends_at: at(to), energy_wh }
}

/// DOMAIN.md's worked example on a Monday in Tokyo.
fn worked_example() -> Session {
    let periods = vec![
        period("2026-03-02T16:30:00+09:00", "2026-03-02T17:00:00+09:00", 5500),
        period("2026-03-02T17:00:00+09:00", "2026-03-02T17:40:00+09:00", 7300),
    ];
    session(1, "2026-03-02T16:30:00+09:00", "2026-03-02T17:40:00+09:00", "2026-03-02T18:02:00+09:00", 12800, periods)
}

fn facts_with(sessions: Vec<Session>, zone: &str) -> Facts {
    let mut facts = Facts::default();
    facts.add_station(station(zone));
    for session in sessions {
        facts.add_session(session);
    }
    facts
}

#[test]
fn the_worked_example_charges_70_minutes_and_occupies_92() {
    let facts = facts_with(vec![worked_example()], "Asia/Tokyo");
    let figures = compute(&facts, &days(&["2026-03-02"]));
    assert_eq!(
        figures.usage,
        [Usage {
            day: date("2026-03-02"),
            station_id: STATION,
            connector_id: "1".into(),
            sessions: 1,
            charging_us: 70 * 60 * 1_000_000,
            occupied_us: 92 * 60 * 1_000_000,
            day_us: 24 * HOUR_US,
        }]
    );
    assert_eq!(figures.energy, [Energy { day: date("2026-03-02"), station_id: STATION, energy_wh: d("12800") }]);
}

#[test]
fn a_session_over_midnight_is_split_between_the_days_and_counted_on_its_first() {
    // 23:00 to 01:00 in Tokyo, one period of 10 kWh over all of it, unplugged at 01:30.
    let overnight = session(
        2,
        "2026-03-02T23:00:00+09:00",
        "2026-03-03T01:00:00+09:00",
        "2026-03-03T01:30:00+09:00",
        10000,
        vec![period("2026-03-02T23:00:00+09:00", "2026-03-03T01:00:00+09:00", 10000)],
    );
    let facts = facts_with(vec![overnight], "Asia/Tokyo");
    let figures = compute(&facts, &days(&["2026-03-02", "2026-03-03"]));
    let usage: Vec<_> = figures.usage.iter().map(|u| (u.day, u.sessions, u.charging_us, u.occupied_us)).collect();
    assert_eq!(usage, [(date("2026-03-02"), 1, HOUR_US, HOUR_US), (date("2026-03-03"), 0, HOUR_US, HOUR_US * 3 / 2)]);
    let energy: Vec<_> = figures.energy.iter().map(|e| (e.day, e.energy_wh)).collect();
    assert_eq!(energy, [(date("2026-03-02"), d("5000")), (date("2026-03-03"), d("5000"))]);
    // Only the days asked for.
    let second = compute(&facts, &days(&["2026-03-03"]));
    assert_eq!(second.usage.len(), 1);
    assert_eq!(second.energy, [Energy { day: date("2026-03-03"), station_id: STATION, energy_wh: d("5000") }]);
}

#[test]
fn energy_is_shared_by_time_when_a_period_crosses_midnight() {
    // 30 minutes before and 60 after Tokyo's midnight: a third and two thirds of 9 kWh.
    let facts = facts_with(
        vec![session(
            3,
            "2026-03-02T23:30:00+09:00",
            "2026-03-03T00:30:00+09:00",
            "2026-03-03T00:30:00+09:00",
            9000,
            vec![period("2026-03-02T23:30:00+09:00", "2026-03-03T01:00:00+09:00", 9000)],
        )],
        "Asia/Tokyo",
    );
    let energy = compute(&facts, &days(&["2026-03-02", "2026-03-03"])).energy;
    assert_eq!(energy.iter().map(|e| e.energy_wh).collect::<Vec<_>>(), [d("3000"), d("6000")]);
}

#[test]
fn a_session_without_periods_spreads_its_energy_over_its_charging_time() {
    // Charging 22:00 to 02:00 UTC: half of 8 kWh on each UTC day; parked until 03:00.
    let facts =
        facts_with(vec![session(4, "2026-03-02T22:00:00Z", "2026-03-03T02:00:00Z", "2026-03-03T03:00:00Z", 8000, vec![])], "UTC");
    let figures = compute(&facts, &days(&["2026-03-02", "2026-03-03"]));
    assert_eq!(figures.energy.iter().map(|e| e.energy_wh).collect::<Vec<_>>(), [d("4000"), d("4000")]);
    assert_eq!(figures.usage[1].occupied_us, 3 * HOUR_US);
    // A session that charged in an instant: its energy is that instant's day's.
    let instant =
        facts_with(vec![session(5, "2026-03-02T22:00:00Z", "2026-03-02T22:00:00Z", "2026-03-02T22:00:00Z", 500, vec![])], "UTC");
    let energy = compute(&instant, &days(&["2026-03-02"])).energy;
    assert_eq!(energy[0].energy_wh, d("500"));
}

#[test]
fn days_the_clocks_change_have_23_and_25_hours() {
    let spring = session(6, "2026-03-29T12:00:00+02:00", "2026-03-29T14:00:00+02:00", "2026-03-29T14:30:00+02:00", 1000, vec![]);
    let autumn = session(7, "2026-10-25T12:00:00+01:00", "2026-10-25T14:00:00+01:00", "2026-10-25T14:30:00+01:00", 1000, vec![]);
    let facts = facts_with(vec![spring, autumn], "Europe/Berlin");
    let usage = compute(&facts, &days(&["2026-03-29", "2026-10-25"])).usage;
    assert_eq!(
        usage.iter().map(|u| (u.day_us, u.occupied_us)).collect::<Vec<_>>(),
        [(23 * HOUR_US, 5 * HOUR_US / 2), (25 * HOUR_US, 5 * HOUR_US / 2)]
    );
}

#[test]
fn overlapping_sessions_on_one_connector_occupy_it_once() {
    let first = session(8, "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z", 1000, vec![]);
    let second = session(9, "2026-03-02T11:30:00Z", "2026-03-02T12:30:00Z", "2026-03-02T13:00:00Z", 1000, vec![]);
    let facts = facts_with(vec![first, second], "UTC");
    let usage = compute(&facts, &days(&["2026-03-02"])).usage;
    assert_eq!((usage[0].sessions, usage[0].charging_us, usage[0].occupied_us), (2, 2 * HOUR_US, 3 * HOUR_US));
}

#[test]
fn a_session_still_charging_counts_as_started_only() {
    let mut active = worked_example();
    active.completion = None;
    let facts = facts_with(vec![active], "Asia/Tokyo");
    let figures = compute(&facts, &days(&["2026-03-02"]));
    assert_eq!(figures.usage.iter().map(|u| (u.sessions, u.charging_us, u.occupied_us)).collect::<Vec<_>>(), [(1, 0, 0)]);
    assert!(figures.energy.is_empty());
}

fn invoice(id: u128, session: Option<u128>, excl: &str, incl: Option<&str>, created: &str) -> Invoice {
    Invoice {
        id: Uuid::from_u128(id),
        session_id: session.map(Uuid::from_u128),
        currency: "EUR".into(),
        total_excl_vat: d(excl),
        total_incl_vat: incl.map(d),
        created_at: at(created),
    }
}

fn payment(invoice: u128, amount: &str, paid: &str) -> Payment {
    Payment {
        invoice_id: Uuid::from_u128(invoice),
        reference: format!("stub-{invoice}"),
        amount: d(amount),
        currency: "EUR".into(),
        paid_at: at(paid),
    }
}

#[test]
fn revenue_is_counted_on_the_local_day_invoiced_and_the_day_paid() {
    let mut facts = facts_with(vec![worked_example()], "Asia/Tokyo");
    // Invoiced at 00:30 Tokyo on the 3rd (still the 2nd in UTC), paid on the 4th.
    facts.add_invoice(invoice(11, Some(1), "6.57", Some("7.88"), "2026-03-03T00:30:00+09:00"));
    facts.add_payment(payment(11, "7.88", "2026-03-04T09:00:00+09:00"));
    // A parking invoice has no station: a UTC day; one with no VAT total counts its net.
    facts.add_invoice(invoice(12, None, "2.50", None, "2026-03-03T10:00:00Z"));
    let revenue = compute(&facts, &days(&["2026-03-02", "2026-03-03", "2026-03-04"])).revenue;
    let rows: Vec<_> =
        revenue.iter().map(|r| (r.day, r.station_id, r.invoices, r.invoiced_excl_vat, r.invoiced_incl_vat, r.paid)).collect();
    assert_eq!(
        rows,
        [
            (date("2026-03-03"), Some(STATION), 1, d("6.57"), d("7.88"), d("0")),
            (date("2026-03-03"), None, 1, d("2.50"), d("2.50"), d("0")),
            (date("2026-03-04"), Some(STATION), 0, d("0"), d("0"), d("7.88")),
        ]
    );
}

#[test]
fn an_invoice_before_its_session_moves_to_the_station_once_the_session_is_known() {
    let mut facts = Facts::default();
    facts.add_station(station("Asia/Tokyo"));
    facts.add_invoice(invoice(11, Some(1), "6.57", Some("7.88"), "2026-03-02T20:00:00Z"));
    let all = days(&["2026-03-02", "2026-03-03"]);
    let before = compute(&facts, &all).revenue;
    assert_eq!(before.iter().map(|r| (r.day, r.station_id)).collect::<Vec<_>>(), [(date("2026-03-02"), None)]);
    facts.add_session(worked_example());
    let after = compute(&facts, &all).revenue;
    assert_eq!(after.iter().map(|r| (r.day, r.station_id)).collect::<Vec<_>>(), [(date("2026-03-03"), Some(STATION))]);
}

#[test]
fn a_replayed_event_changes_no_figure() {
    let all = days(&["2026-03-02", "2026-03-03", "2026-03-04"]);
    let tell = |facts: &mut Facts| {
        let mut started = worked_example();
        started.completion = None;
        facts.add_session(started);
        facts.add_session(worked_example());
        facts.add_invoice(invoice(11, Some(1), "6.57", Some("7.88"), "2026-03-02T09:05:00Z"));
        facts.add_payment(payment(11, "7.88", "2026-03-03T09:00:00Z"));
    };
    let mut once = facts_with(vec![], "Asia/Tokyo");
    tell(&mut once);
    let mut twice = once.clone();
    tell(&mut twice);
    // A late copy of the start, after the completion, and a copy of the payment told later.
    let mut late_start = worked_example();
    late_start.completion = None;
    twice.add_session(late_start);
    twice.add_payment(Payment { paid_at: at("2026-03-04T09:00:00Z"), ..payment(11, "7.88", "2026-03-03T09:00:00Z") });
    assert_eq!(compute(&once, &all), compute(&twice, &all));
    assert_eq!(compute(&once, &all).revenue.iter().map(|r| r.paid).sum::<Decimal>(), d("7.88"));
}
