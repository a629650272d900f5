//! OCPI 2.2.1 tariffs and the pricing of a charging session with them, in exact decimals.
//!
//! [`price`] splits the session wherever the active tariff element can change (a clock
//! time, a kWh or duration threshold, a meter reading, the switch from charging to parking),
//! prices each dimension with the first element whose restrictions hold, applies step sizes
//! once per session, and brings the total within the tariff's minimum and maximum price.

mod exact;
#[cfg(feature = "joule")]
pub mod joule;
pub mod limits;
mod model;
mod price;
mod segments;
mod session;

pub use model::{Dimension, Element, Price, PriceComponent, Restrictions, Tariff};
pub use price::{Breakdown, LINE_DECIMALS, Line, price};
pub use session::{ChargingPeriod, Session};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingError {
    InvalidTariff(String),
    InvalidSession(String),
}

impl std::fmt::Display for PricingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidTariff(why) => write!(f, "invalid tariff: {why}"),
            Self::InvalidSession(why) => write!(f, "invalid session: {why}"),
        }
    }
}

impl std::error::Error for PricingError {}

#[cfg(test)]
mod tests;
