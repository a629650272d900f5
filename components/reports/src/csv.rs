//! A report's items as JSON or as CSV (RFC 4180), from the same cells, so the two always
//! say the same: the CSV header is the JSON field names in order, and each row holds the
//! item's values as the JSON writes them (a string's text, a number's digits, null empty).

use serde::ser::{Serialize, SerializeMap, Serializer};

/// One value of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Whole(i64),
    Null,
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Self {
        Self::Text(value.into())
    }

    pub fn optional(value: Option<impl Into<String>>) -> Self {
        value.map_or(Self::Null, Self::text)
    }

    fn csv(&self) -> String {
        match self {
            Self::Text(text) => quoted(text),
            Self::Whole(number) => number.to_string(),
            Self::Null => String::new(),
        }
    }
}

/// One item of a report: named cells, in the order of its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item(pub Vec<(&'static str, Cell)>);

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, cell) in &self.0 {
            match cell {
                Cell::Text(text) => map.serialize_entry(name, text)?,
                Cell::Whole(number) => map.serialize_entry(name, number)?,
                Cell::Null => map.serialize_entry(name, &())?,
            }
        }
        map.end()
    }
}

/// The CSV document: a header row of `columns`, then one row per item; lines end in CRLF.
pub fn document(columns: &[&str], items: &[Item]) -> String {
    let mut out = String::new();
    let header: Vec<String> = columns.iter().map(|c| quoted(c)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for item in items {
        let row: Vec<String> = item.0.iter().map(|(_, cell)| cell.csv()).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A field as RFC 4180 writes it: in double quotes, its own doubled, when it holds a comma,
/// a quote or a line break (or would lose leading or trailing spaces to a lenient reader).
fn quoted(field: &str) -> String {
    let needs = field.contains([',', '"', '\r', '\n']) || field.starts_with(' ') || field.ends_with(' ');
    if needs { format!("\"{}\"", field.replace('"', "\"\"")) } else { field.to_string() }
}

/// Whether the client's `Accept` header prefers CSV to JSON. JSON is the default: CSV is
/// chosen when `text/csv` is acceptable and no JSON type is preferred to it.
pub fn wants_csv(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    let (mut csv, mut json) = (0.0_f32, 0.0_f32);
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.split_once('='))
            .find(|(key, _)| key.trim().eq_ignore_ascii_case("q"))
            .and_then(|(_, q)| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/csv" => csv = csv.max(quality),
            "application/json" => json = json.max(quality),
            _ => {}
        }
    }
    csv > 0.0 && csv >= json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item(vec![
            ("day", Cell::text("2026-03-02")),
            ("stationName", Cell::text("Harbour \"Hub\", Pier 4")),
            ("sessions", Cell::Whole(2)),
            ("stationId", Cell::Null),
        ])
    }

    #[test]
    fn json_and_csv_hold_the_same_cells() {
        let json = serde_json::to_string(&item()).unwrap();
        assert_eq!(json, r#"{"day":"2026-03-02","stationName":"Harbour \"Hub\", Pier 4","sessions":2,"stationId":null}"#);
        let csv = document(&["day", "stationName", "sessions", "stationId"], &[item()]);
        assert_eq!(csv, "day,stationName,sessions,stationId\r\n2026-03-02,\"Harbour \"\"Hub\"\", Pier 4\",2,\r\n");
    }

    #[test]
    fn quotes_fields_with_commas_quotes_line_breaks_and_edge_spaces() {
        assert_eq!(quoted("plain"), "plain");
        assert_eq!(quoted("a,b"), "\"a,b\"");
        assert_eq!(quoted("two\nlines"), "\"two\nlines\"");
        assert_eq!(quoted("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quoted(" padded"), "\" padded\"");
        assert_eq!(document(&["a"], &[]), "a\r\n");
    }

    #[test]
    fn csv_only_when_asked_for_and_not_less_wanted_than_json() {
        assert!(!wants_csv(None));
        assert!(!wants_csv(Some("application/json")));
        assert!(!wants_csv(Some("*/*")));
        assert!(wants_csv(Some("text/csv")));
        assert!(wants_csv(Some("TEXT/CSV; charset=utf-8")));
        assert!(wants_csv(Some("text/csv, application/json;q=0.5")));
        assert!(!wants_csv(Some("text/csv;q=0.4, application/json")));
        assert!(!wants_csv(Some("text/csv;q=0")));
        assert!(wants_csv(Some("text/html, text/csv;q=0.9, */*;q=0.1")));
    }
}
