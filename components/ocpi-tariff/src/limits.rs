//! The largest tariff and session the engine prices. Callers check their input against these
//! first, so the 422 names the field; the engine checks again, so no input can make it run
//! past its rule's memory or time, or overflow its decimals.
//!
//! Within them the largest amount is about 1e9 (price) × 1e12 Wh (periods × energy) / 1000,
//! 1e18: ten orders of magnitude inside what an exact decimal holds (7.9e28).

use rust_decimal::Decimal;

/// A session, from its start to unplugging, lasts at most 31 days: a month of parking at a
/// depot. It bounds how many clock boundaries (days × times of day) a session is split at.
pub const MAX_SESSION_DAYS: i64 = 31;
/// [`MAX_SESSION_DAYS`] in seconds, the bound of `minDuration` and `maxDuration` too.
pub const MAX_SESSION_SECONDS: u64 = MAX_SESSION_DAYS as u64 * 86_400;
/// Charging periods (meter readings) in a session; 1000 keeps a session's event well inside
/// the platform's 256 KiB event limit.
pub const MAX_PERIODS: usize = 1000;
/// Energy in one period: 1 GWh, more than a 1000 kW connector delivers in 31 days.
pub const MAX_PERIOD_WH: u64 = 1_000_000_000;

/// Elements in a tariff. With the bounds below, a tariff's event stays well within 256 KiB.
pub const MAX_ELEMENTS: usize = 100;
/// Price components in an element: one per dimension is usual, a few more are tolerated.
pub const MAX_PRICE_COMPONENTS: usize = 8;
/// Days listed in `dayOfWeek`.
pub const MAX_DAYS: usize = 7;
/// A step size: a day in seconds and then some, or 1 MWh.
pub const MAX_STEP_SIZE: u64 = 1_000_000;

/// A price, excluding or including VAT, and `minPrice` / `maxPrice`: 1e9 leaves room for the
/// currencies with the smallest units.
pub fn max_price() -> Decimal {
    Decimal::from(1_000_000_000)
}

/// `minKwh` and `maxKwh`: 1 GWh, a period's most.
pub fn max_kwh() -> Decimal {
    Decimal::from(1_000_000)
}

/// `minPower` and `maxPower` in kW: 10 MW, beyond any connector.
pub fn max_power_kw() -> Decimal {
    Decimal::from(10_000)
}

/// VAT is a percentage.
pub fn max_vat() -> Decimal {
    Decimal::from(100)
}
