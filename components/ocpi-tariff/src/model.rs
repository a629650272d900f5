//! The OCPI 2.2.1 tariff model, as the EV API carries it (camelCase JSON).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::PricingError;
use crate::limits::{MAX_ELEMENTS, MAX_PRICE_COMPONENTS};

/// What a price component prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Dimension {
    /// Per kWh; step size in Wh.
    Energy,
    /// Once per session.
    Flat,
    /// Per hour connected but not charging; step size in seconds.
    ParkingTime,
    /// Per hour of charging; step size in seconds.
    Time,
}

impl Dimension {
    /// Every dimension, in declaration order: `ALL[d as usize] == d`.
    pub const ALL: [Self; 4] = [Self::Energy, Self::Flat, Self::ParkingTime, Self::Time];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Energy => "ENERGY",
            Self::Flat => "FLAT",
            Self::ParkingTime => "PARKING_TIME",
            Self::Time => "TIME",
        }
    }
}

/// A price with and without VAT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Price {
    pub excl_vat: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incl_vat: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceComponent {
    #[serde(rename = "type")]
    pub dimension: Dimension,
    /// Excluding VAT: per kWh, per hour, or once.
    pub price: Decimal,
    /// A percentage. Absent means no VAT applies, which is not the same as 0%.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat: Option<Decimal>,
    /// Wh for ENERGY, seconds for TIME and PARKING_TIME; 1 bills exact volumes.
    #[serde(default = "one")]
    pub step_size: u32,
}

fn one() -> u32 {
    1
}

/// When an element applies; every restriction given must hold. Times and dates are the
/// station's local ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Restrictions {
    /// From this time of day, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hh_mm")]
    pub start_time: Option<NaiveTime>,
    /// Until this time of day, exclusive; earlier than `start_time` wraps past midnight.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hh_mm")]
    pub end_time: Option<NaiveTime>,
    /// From this date, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Until this date, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    /// Energy charged so far, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kwh: Option<Decimal>,
    /// Energy charged so far, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_kwh: Option<Decimal>,
    /// Instantaneous power in kW, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_power: Option<Decimal>,
    /// Instantaneous power in kW, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_power: Option<Decimal>,
    /// Session seconds so far, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration: Option<u32>,
    /// Session seconds so far, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "weekdays")]
    pub day_of_week: Vec<Weekday>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Element {
    pub price_components: Vec<PriceComponent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<Restrictions>,
}

/// A tariff: the elements in order, the first matching one pricing each dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tariff {
    pub currency: String,
    pub elements: Vec<Element>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<DateTime<Utc>>,
}

impl Tariff {
    /// Checks the tariff is within the engine's limits: each segment of a session is matched
    /// against every element, so their number bounds the work.
    pub(crate) fn check(&self) -> Result<(), PricingError> {
        let invalid = |why: String| Err(PricingError::InvalidTariff(why));
        if self.elements.len() > MAX_ELEMENTS {
            return invalid(format!("a tariff has at most {MAX_ELEMENTS} elements"));
        }
        if self.elements.iter().any(|e| e.price_components.len() > MAX_PRICE_COMPONENTS) {
            return invalid(format!("an element has at most {MAX_PRICE_COMPONENTS} price components"));
        }
        Ok(())
    }
}

/// `"HH:MM"`, as OCPI writes times of day.
mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Option<NaiveTime>, serializer: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.serialize_str(&time.format("%H:%M").to_string()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveTime>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        text.map(|t| {
            NaiveTime::parse_from_str(&t, "%H:%M")
                .map_err(|_| serde::de::Error::custom(format!("{t:?} is not a time such as \"17:30\"")))
        })
        .transpose()
    }
}

/// `["MONDAY", ...]`, as OCPI writes days.
mod weekdays {
    use chrono::Weekday;
    use serde::{Deserialize, Deserializer, Serializer};

    const NAMES: [(&str, Weekday); 7] = [
        ("MONDAY", Weekday::Mon),
        ("TUESDAY", Weekday::Tue),
        ("WEDNESDAY", Weekday::Wed),
        ("THURSDAY", Weekday::Thu),
        ("FRIDAY", Weekday::Fri),
        ("SATURDAY", Weekday::Sat),
        ("SUNDAY", Weekday::Sun),
    ];

    pub fn serialize<S: Serializer>(days: &[Weekday], serializer: S) -> Result<S::Ok, S::Error> {
        let names: Vec<&str> = days.iter().filter_map(|d| NAMES.iter().find(|(_, w)| w == d).map(|(n, _)| *n)).collect();
        serializer.collect_seq(names)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Weekday>, D::Error> {
        let names: Vec<String> = Vec::deserialize(deserializer)?;
        names
            .iter()
            .map(|name| {
                NAMES
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, w)| *w)
                    .ok_or_else(|| serde::de::Error::custom(format!("{name:?} is not a day such as \"MONDAY\"")))
            })
            .collect()
    }
}
