//! What a station is, as stored and as the API shows it.

use chrono::{DateTime, Utc};
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
    /// The status the charge point last reported, in its OCPP version's words; `None` until then.
    pub ocpp_status: Option<String>,
}

/// The station's OCPP charge point, as the API shows it: never its password hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ocpp {
    pub charge_point_id: String,
    /// "ocpp1.6" or "ocpp2.0.1"; `None` admits either.
    pub protocol: Option<String>,
    pub password_set: bool,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
    #[serde(serialize_with = "optional_rfc3339")]
    pub last_boot_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "optional_rfc3339")]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Since when nothing was heard for three heartbeat intervals; `None` while it is heard.
    #[serde(serialize_with = "optional_rfc3339")]
    pub offline_since: Option<DateTime<Utc>>,
}

impl Ocpp {
    /// A charge point just configured: nothing is known of it yet.
    pub fn configured(charge_point_id: String, protocol: Option<String>) -> Self {
        Self {
            charge_point_id,
            protocol,
            password_set: false,
            vendor: None,
            model: None,
            serial_number: None,
            firmware_version: None,
            last_boot_at: None,
            last_seen_at: None,
            offline_since: None,
        }
    }
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
    /// Null when no OCPP charge point speaks for the station.
    pub ocpp: Option<Ocpp>,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "joule_sdk::api::serialize_time")]
    pub updated_at: DateTime<Utc>,
}

fn optional_rfc3339<S: serde::Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => joule_sdk::api::serialize_time(at, serializer),
        None => serializer.serialize_none(),
    }
}
