//! Pricing: running a deployed pricing rule, and writing one.
//!
//! A rule implements [`Rule`] and is exported with
//! [`export_pricing_rule!`](crate::export_pricing_rule). It imports nothing: a pure
//! function of the tariff and the session.

pub use crate::bindings::joule::platform::pricing::QuoteResult;
use crate::bindings::joule::platform::pricing as wit;
pub use crate::bindings::joule::platform::pricing_types::{
    ChargingPeriod, Error, PriceBreakdown, PriceLine, QuoteInput, SessionUsage,
};
pub use crate::rule_bindings::exports::joule::platform::rule::Guest as Rule;

/// Prices `input` with `rule`: its active version, or `version` to repeat an earlier price.
pub fn quote(rule: &str, version: Option<u32>, input: &QuoteInput) -> Result<QuoteResult, Error> {
    wit::quote(rule, version, input)
}

/// The version of `rule` quotes use now.
pub fn rule_version(rule: &str) -> Result<u32, Error> {
    wit::rule_version(rule)
}
