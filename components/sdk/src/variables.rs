//! The component's variables, from `[component.<id>.variables]` in the manifest.

pub use crate::bindings::joule::platform::variables::Error;
use crate::bindings::joule::platform::variables as wit;

pub fn get(name: &str) -> Result<String, Error> {
    wit::get(name)
}

/// A whole-number variable: `default` when missing or malformed, else clamped to `min..=max`,
/// so no setting, however absurd, can make a computation with it overflow and trap.
pub fn whole(name: &str, default: i64, min: i64, max: i64) -> i64 {
    whole_from(get(name).ok().as_deref(), default, min, max)
}

fn whole_from(value: Option<&str>, default: i64, min: i64, max: i64) -> i64 {
    value.and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(default).clamp(min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_malformed_or_absurd_setting_cannot_trap() {
        assert_eq!(whole_from(None, 15, 0, 1440), 15);
        assert_eq!(whole_from(Some("soon"), 15, 0, 1440), 15);
        assert_eq!(whole_from(Some(" 30 "), 15, 0, 1440), 30);
        assert_eq!(whole_from(Some("-5"), 15, 0, 1440), 0);
        assert_eq!(whole_from(Some("9223372036854775807"), 15, 0, 1440), 1440);
        assert_eq!(whole_from(Some("99999999999999999999"), 15, 0, 1440), 15, "past i64 is malformed");
    }
}
