//! Money as the API writes it: exact decimal text with a fixed number of decimals.

use rust_decimal::Decimal;

/// `value` with exactly `places` decimals, rounded half away from zero ("6.5650").
///
/// `format!("{value:.4}")` panics for the largest decimals (rust_decimal formats into 32
/// bytes), so the zeros are added to the text instead.
pub fn fixed(value: Decimal, places: u32) -> String {
    let rounded = value.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let mut text = rounded.to_string();
    let decimals = text.split_once('.').map_or(0, |(_, fraction)| fraction.len());
    if places > 0 && decimals == 0 {
        text.push('.');
    }
    text.extend(std::iter::repeat_n('0', (places as usize).saturating_sub(decimals)));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_rounds_to_the_places_even_for_the_largest_decimals() {
        let d = |text: &str| text.parse::<Decimal>().unwrap();
        assert_eq!(fixed(d("6.565"), 4), "6.5650");
        assert_eq!(fixed(d("6.565"), 2), "6.57");
        assert_eq!(fixed(d("-30.005"), 2), "-30.01");
        assert_eq!(fixed(d("12"), 4), "12.0000");
        assert_eq!(fixed(d("0"), 2), "0.00");
        assert_eq!(fixed(d("0.00001"), 4), "0.0000");
        assert_eq!(fixed(Decimal::MIN, 4), "-79228162514264337593543950335.0000");
        assert_eq!(fixed(Decimal::MAX, 0), "79228162514264337593543950335");
    }
}
