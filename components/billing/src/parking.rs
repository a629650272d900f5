//! Parking stays: a stay longer than its lot's free minutes is invoiced with the lot's
//! tariff (its PARKING_TIME price, and whatever else the tariff charges once per stay) for
//! the time past them, to the driver whose vehicle has the plate. A plate no single account
//! has goes to the lot's default account, marked unassigned. The stay's event carries all
//! of the lot this needs, so the parking schema is never read.

use chrono::{DateTime, TimeDelta, Utc};
use joule_sdk::events::{Event, HandlerError};
use joule_sdk::pricing::SessionUsage;
use serde::Deserialize;
use uuid::Uuid;

use crate::invoicing::{self, Billable, Subject};
use crate::vehicles;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stay {
    stay_id: Uuid,
    lot_id: Uuid,
    regnum: String,
    parked_at: DateTime<Utc>,
    left_at: DateTime<Utc>,
    tariff_id: Option<String>,
    #[serde(default)]
    free_minutes: u32,
    default_account: Option<String>,
    time_zone: Option<String>,
}

/// The billable part of a stay: from the end of its free minutes to leaving; none if it
/// left within them.
fn billable_from(stay: &Stay) -> Option<DateTime<Utc>> {
    let from = stay.parked_at + TimeDelta::minutes(i64::from(stay.free_minutes));
    (stay.left_at > from).then_some(from)
}

/// Handles `parking.vehicle-left.v1`.
pub fn stay(event: &Event) -> Result<(), HandlerError> {
    let stay: Stay = event.data_as()?;
    let (Some(tariff_id), Some(from)) = (stay.tariff_id.clone(), billable_from(&stay)) else { return Ok(()) };
    let owner = vehicles::owner(&stay.regnum)?;
    let unassigned = owner.is_none();
    let at = |t: DateTime<Utc>| joule_sdk::api::time(t);
    invoicing::issue(Billable {
        subject: Subject::Stay { stay_id: stay.stay_id, lot_id: stay.lot_id, regnum: stay.regnum.clone(), unassigned },
        driver_id: owner.or(stay.default_account),
        tariff_id,
        // A lot's stay is priced with the tariff as it is when the car leaves.
        tariff_version: None,
        rule: None,
        rule_version: None,
        // Priced as a session that never charges: all of it is parking time.
        usage: SessionUsage {
            started_at: at(from),
            charging_ended_at: at(from),
            unplugged_at: at(stay.left_at),
            time_zone: stay.time_zone.unwrap_or_else(|| "UTC".into()),
            periods: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stay(minutes: i64, free_minutes: u32) -> Stay {
        let parked_at: DateTime<Utc> = "2026-12-07T08:00:00Z".parse().unwrap();
        Stay {
            stay_id: Uuid::nil(),
            lot_id: Uuid::nil(),
            regnum: "AB123".into(),
            parked_at,
            left_at: parked_at + TimeDelta::minutes(minutes),
            tariff_id: Some("t".into()),
            free_minutes,
            default_account: None,
            time_zone: None,
        }
    }

    #[test]
    fn only_the_time_past_the_free_minutes_is_billed() {
        assert_eq!(billable_from(&stay(95, 30)), Some("2026-12-07T08:30:00Z".parse().unwrap()));
        assert_eq!(billable_from(&stay(30, 30)), None);
        assert_eq!(billable_from(&stay(10, 30)), None);
        assert_eq!(billable_from(&stay(1, 0)), Some("2026-12-07T08:00:00Z".parse().unwrap()));
    }
}
