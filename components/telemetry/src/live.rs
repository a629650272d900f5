//! The live state, one fact per key: what a station is, whether its charge point is heard,
//! its last heartbeat, and per connector the status, the session and the last meter reading.
//! Each fact says what orders it against the same fact from another event, since events
//! come late, twice, and several at once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::Fact;

/// A station as its latest event described it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Station {
    pub charge_point_id: Option<String>,
    pub connectors: Vec<String>,
    /// When the event was published: a station's changes are made one at a time.
    pub at: DateTime<Utc>,
}

/// Whether the station's charge point is heard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// `None` while nothing was ever heard of it, or the station has no charge point.
    pub online: Option<bool>,
    pub offline_since: Option<DateTime<Utc>>,
    /// When the event was published.
    pub at: DateTime<Utc>,
}

/// The charge point's last Heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Heartbeat {
    pub at: DateTime<Utc>,
    pub interval_seconds: Option<i64>,
}

/// A connector's status, as the stations component keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub status: String,
    pub ocpp_status: Option<String>,
    /// When the event was published.
    pub at: DateTime<Utc>,
}

/// The session a connector last started or completed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub session_id: Uuid,
    pub active: bool,
    /// When the event was published: a connector's next session starts only after the last
    /// one completed, whatever times a client gave them.
    pub at: DateTime<Utc>,
}

/// A connector's last meter reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meter {
    pub session_id: Uuid,
    /// When the meter was read.
    pub at: DateTime<Utc>,
    /// Energy since the session's start.
    pub energy_wh: i64,
    pub power_w: Option<i64>,
}

impl Fact for Station {
    type Order = DateTime<Utc>;
    fn order(&self) -> Self::Order {
        self.at
    }
}

impl Fact for Link {
    type Order = DateTime<Utc>;
    fn order(&self) -> Self::Order {
        self.at
    }
}

impl Fact for Heartbeat {
    type Order = DateTime<Utc>;
    fn order(&self) -> Self::Order {
        self.at
    }
}

impl Fact for Status {
    type Order = DateTime<Utc>;
    fn order(&self) -> Self::Order {
        self.at
    }
}

impl Fact for Session {
    /// At one instant, a completion comes after the start.
    type Order = (DateTime<Utc>, bool);
    fn order(&self) -> Self::Order {
        (self.at, !self.active)
    }
}

impl Fact for Meter {
    /// Session ids are time-ordered (UUIDv7), so a later session's readings come after an
    /// earlier one's whatever their meter times; within a session, by the time read.
    type Order = (Uuid, DateTime<Utc>);
    /// One message can carry many readings, published together and handled at once.
    const SLOTS: i64 = 8;
    fn order(&self) -> Self::Order {
        (self.session_id, self.at)
    }
}

/// The keys of a station's facts in the component's key space.
pub mod keys {
    use uuid::Uuid;

    pub fn station(station: Uuid) -> String {
        format!("station:{station}")
    }

    /// Set, with an expiry, when the station is removed: late events about it change nothing.
    pub fn removed(station: Uuid) -> String {
        format!("removed:{station}")
    }

    pub fn link(station: Uuid) -> String {
        format!("link:{station}")
    }

    pub fn heartbeat(station: Uuid) -> String {
        format!("heartbeat:{station}")
    }

    pub fn status(station: Uuid, connector: &str) -> String {
        format!("status:{station}:{connector}")
    }

    pub fn session(station: Uuid, connector: &str) -> String {
        format!("session:{station}:{connector}")
    }

    pub fn meter(station: Uuid, connector: &str) -> String {
        format!("meter:{station}:{connector}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_completion_at_the_same_instant_comes_after_the_start() {
        let id = Uuid::parse_str("01900000-0000-7000-8000-000000000001").unwrap();
        let started = Session { session_id: id, active: true, at: at("2026-03-02T08:00:00Z") };
        let completed = Session { active: false, ..started.clone() };
        assert!(completed.order() > started.order());
        let next = Session { session_id: id, active: true, at: at("2026-03-02T08:00:01Z") };
        assert!(next.order() > completed.order());
    }

    #[test]
    fn a_later_sessions_reading_comes_after_an_earlier_ones_whatever_its_meter_time() {
        let earlier = Uuid::parse_str("01900000-0000-7000-8000-000000000001").unwrap();
        let later = Uuid::parse_str("01900000-0001-7000-8000-000000000001").unwrap();
        let last = Meter { session_id: earlier, at: at("2026-03-02T09:00:00Z"), energy_wh: 9000, power_w: None };
        let first = Meter { session_id: later, at: at("2026-03-02T08:00:00Z"), energy_wh: 0, power_w: None };
        assert!(first.order() > last.order());
        let next = Meter { at: at("2026-03-02T08:00:10Z"), ..first.clone() };
        assert!(next.order() > first.order());
    }
}
