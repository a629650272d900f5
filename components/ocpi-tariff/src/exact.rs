//! Exact decimal arithmetic that reports overflow instead of panicking: a price times a
//! volume can exceed what a decimal holds (7.9e28), and a rule that panics fails as a 5xx.

use rust_decimal::Decimal;

use crate::PricingError;

/// The error for a computation past what a decimal holds.
pub(crate) fn overflow() -> PricingError {
    PricingError::InvalidTariff("the session's volumes times the tariff's prices are too large to compute exactly".into())
}

pub(crate) fn add(a: Decimal, b: Decimal) -> Result<Decimal, PricingError> {
    a.checked_add(b).ok_or_else(overflow)
}

pub(crate) fn sub(a: Decimal, b: Decimal) -> Result<Decimal, PricingError> {
    a.checked_sub(b).ok_or_else(overflow)
}

pub(crate) fn mul(a: Decimal, b: Decimal) -> Result<Decimal, PricingError> {
    a.checked_mul(b).ok_or_else(overflow)
}

pub(crate) fn div(a: Decimal, b: Decimal) -> Result<Decimal, PricingError> {
    a.checked_div(b).ok_or_else(overflow)
}

/// The sum of `values`.
pub(crate) fn sum(values: impl IntoIterator<Item = Decimal>) -> Result<Decimal, PricingError> {
    values.into_iter().try_fold(Decimal::ZERO, add)
}

/// The sum of `values`, or `None` when any is `None` (a line with no VAT has no total with it).
pub(crate) fn sum_optional(values: impl IntoIterator<Item = Option<Decimal>>) -> Result<Option<Decimal>, PricingError> {
    let mut total = Some(Decimal::ZERO);
    for value in values {
        total = match (total, value) {
            (Some(total), Some(value)) => Some(add(total, value)?),
            _ => None,
        };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        assert!(mul(Decimal::MAX, Decimal::TWO).is_err());
        assert!(add(Decimal::MAX, Decimal::ONE).is_err());
        assert!(sub(Decimal::MIN, Decimal::ONE).is_err());
        assert!(div(Decimal::ONE, Decimal::ZERO).is_err());
        assert!(sum([Decimal::MAX, Decimal::MAX]).is_err());
        assert_eq!(sum_optional([Some(Decimal::ONE), Some(Decimal::TWO)]).unwrap(), Some(Decimal::from(3)));
        assert_eq!(sum_optional([Some(Decimal::ONE), None]).unwrap(), None);
    }
}
