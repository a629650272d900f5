//! Which characters the API's text may hold.
//!
//! NUL cannot be stored by Postgres (in TEXT or JSONB) while SQLite stores it as is, so
//! letting it through would make the backends disagree; other control characters are never
//! meaningful in this API and break logs and CSV. Free text (names, addresses) may still
//! hold tabs and line breaks; single-line fields (ids, codes, query parameters) may not.

use serde_json::Value;

/// A control character no text anywhere may hold: all but tab, line feed and carriage return.
pub fn is_forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether free text holds a character it may not.
pub fn forbidden_in_text(text: &str) -> bool {
    text.chars().any(is_forbidden)
}

/// Whether a single-line value holds a control character, line breaks and tabs included.
pub fn forbidden_in_line(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// A field name as a problem's path: its control characters escaped, so the path is printable.
pub fn printable(name: &str) -> String {
    if forbidden_in_line(name) { name.escape_debug().to_string() } else { name.to_string() }
}

/// The path of every string, or object key, in `value` holding a forbidden character: every
/// body passes here, so no component can store one by reading a field its own way.
pub fn forbidden_paths(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(value, "", &mut found);
    found
}

fn walk(value: &Value, path: &str, found: &mut Vec<String>) {
    let here = |path: &str| if path.is_empty() { "body".to_string() } else { path.to_string() };
    match value {
        Value::String(text) if forbidden_in_text(text) => found.push(here(path)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{}[{i}]", here(path)), found);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let name = printable(key);
                let child = if path.is_empty() { name } else { format!("{path}.{name}") };
                if forbidden_in_text(key) {
                    found.push(child.clone());
                }
                walk(item, &child, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tabs_and_line_breaks_are_text_other_controls_are_not() {
        assert!(!forbidden_in_text("two\nlines\twith a tab\r\n"));
        for bad in ["nul\0", "bell\u{7}", "escape\u{1b}[0m", "delete\u{7f}", "c1\u{85}"] {
            assert!(forbidden_in_text(bad), "{bad:?}");
        }
        assert!(forbidden_in_line("a\nb"));
        assert!(!forbidden_in_line("Harbour Hub — Ørestad"));
    }

    #[test]
    fn finds_every_path_with_a_forbidden_character() {
        let body = json!({
            "name": "ok\u{0}",
            "fine": "line\nbreak",
            "ruleOptions": { "deep": ["x", "y\u{0}"], "key\u{0}": 1 },
            "n": 5
        });
        let mut paths = forbidden_paths(&body);
        paths.sort();
        assert_eq!(paths, ["name", "ruleOptions.deep[1]", "ruleOptions.key\\0"]);
        assert_eq!(forbidden_paths(&json!("\u{0}")), ["body"]);
        assert_eq!(forbidden_paths(&json!(["\u{0}"])), ["body[0]"]);
    }
}
