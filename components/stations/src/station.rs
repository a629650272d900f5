//! What a station is, as stored and as the API shows it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use uuid::Uuid;

/// Connector standards a station can offer.
pub const CONNECTOR_TYPES: [&str; 7] = ["CCS1", "CCS2", "CHAdeMO", "Type1", "Type2", "NACS", "GBT"];

/// The statuses a connector reports.
pub const CONNECTOR_STATUSES: [&str; 5] = ["Available", "Reserved", "Charging", "Faulted", "Unavailable"];

/// A new connector starts out available.
pub const INITIAL_STATUS: &str = "Available";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    pub connector_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub max_power_kw: f64,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Station {
    pub id: Uuid,
    pub name: String,
    pub location: Location,
    pub address: Option<String>,
    pub time_zone: String,
    pub tariff_id: Option<String>,
    pub connectors: Vec<Connector>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

fn rfc3339<S: serde::Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}
