//! Keyset pagination: `?limit=` and an opaque `?cursor=` naming the last item seen.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::Problems;

/// A page request, parsed from `limit` and `cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    /// The sort key of the last item on the previous page.
    pub after: Option<String>,
}

impl Page {
    pub const DEFAULT_LIMIT: u32 = 20;
    pub const MAX_LIMIT: u32 = 100;

    /// Reads `limit` and `cursor` from query parameters, recording problems.
    pub fn from_query(params: &[(String, String)], problems: &mut Problems) -> Self {
        let mut page = Self { limit: Self::DEFAULT_LIMIT, after: None };
        for (name, value) in params {
            match name.as_str() {
                "limit" => match value.parse::<u32>() {
                    Ok(limit) if (1..=Self::MAX_LIMIT).contains(&limit) => page.limit = limit,
                    _ => problems.add("limit", format!("must be a whole number from 1 to {}", Self::MAX_LIMIT)),
                },
                "cursor" => match decode(value) {
                    Some(after) => page.after = Some(after),
                    None => problems.add("cursor", "is not a cursor this API returned"),
                },
                _ => {}
            }
        }
        page
    }

    /// The cursor for the page after one ending with `last_key`.
    pub fn cursor_after(last_key: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1:{last_key}"))
    }
}

fn decode(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("v1:").map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn round_trips_a_cursor() {
        let cursor = Page::cursor_after("0192f0c4-0000-7000-8000-000000000000");
        let mut problems = Problems::new();
        let page = Page::from_query(&params(&[("limit", "5"), ("cursor", &cursor)]), &mut problems);
        assert!(problems.is_empty());
        assert_eq!(page, Page { limit: 5, after: Some("0192f0c4-0000-7000-8000-000000000000".into()) });
    }

    #[test]
    fn refuses_bad_limits_and_cursors() {
        for (name, value) in [("limit", "0"), ("limit", "101"), ("limit", "ten"), ("cursor", "!!"), ("cursor", "eA")] {
            let mut problems = Problems::new();
            Page::from_query(&params(&[(name, value)]), &mut problems);
            let error = problems.finish().unwrap_err();
            assert!(error.details.unwrap().get(name).is_some(), "{name}={value}");
        }
    }
}
