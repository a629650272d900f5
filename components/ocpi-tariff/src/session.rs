//! What a session used: when it charged, how much, and when it was unplugged.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::PricingError;
use crate::limits::{MAX_PERIOD_WH, MAX_PERIODS, MAX_SESSION_DAYS};

/// Energy delivered between two meter readings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingPeriod {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub energy_wh: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub started_at: DateTime<Utc>,
    /// From here until `unplugged_at` the car is parked.
    pub charging_ended_at: DateTime<Utc>,
    pub unplugged_at: DateTime<Utc>,
    /// Restrictions are read in the station's time zone.
    pub time_zone: Tz,
    pub periods: Vec<ChargingPeriod>,
}

impl Session {
    /// Checks the session is one the engine can price: in order, and within the limits.
    pub(crate) fn check(&self) -> Result<(), PricingError> {
        let invalid = |why: &str| Err(PricingError::InvalidSession(why.to_string()));
        if self.periods.len() > MAX_PERIODS {
            return invalid(&format!("a session has at most {MAX_PERIODS} charging periods"));
        }
        if self.periods.iter().any(|p| p.energy_wh > MAX_PERIOD_WH) {
            return invalid(&format!("a charging period delivers at most {MAX_PERIOD_WH} Wh"));
        }
        // Checked before anything is split by day, which a longer session would make costly.
        if self.unplugged_at.signed_duration_since(self.started_at) > chrono::TimeDelta::days(MAX_SESSION_DAYS) {
            return invalid(&format!("a session lasts at most {MAX_SESSION_DAYS} days, from its start to unplugging"));
        }
        if self.charging_ended_at < self.started_at {
            return invalid("charging ends before the session starts");
        }
        if self.unplugged_at < self.charging_ended_at {
            return invalid("the car is unplugged before charging ends");
        }
        let mut previous_end = self.started_at;
        for period in &self.periods {
            if period.ends_at <= period.starts_at {
                return invalid("a charging period must end after it starts");
            }
            if period.starts_at < previous_end || period.ends_at > self.charging_ended_at {
                return invalid("charging periods must be in order, within the charging time");
            }
            previous_end = period.ends_at;
        }
        Ok(())
    }
}
