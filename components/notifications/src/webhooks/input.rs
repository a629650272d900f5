//! Reading an endpoint's registration and edits.

use joule_sdk::api::{Problems, Reader};
use serde_json::Value;

use super::patterns;

const MAX_URL: usize = 2000;
const MAX_PATTERNS: usize = 50;
const MAX_DESCRIPTION: usize = 500;

/// What a registration or an edit says; absent fields are `None` in an edit.
#[derive(Debug, Default)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// A registration: `url` and `eventTypes` are required.
pub fn registration(body: &Value) -> Result<EndpointInput, joule_sdk::api::ApiError> {
    read(body, true)
}

/// An edit: any of the fields, and `enabled`.
pub fn edit(body: &Value) -> Result<EndpointInput, joule_sdk::api::ApiError> {
    read(body, false)
}

fn read(body: &Value, registering: bool) -> Result<EndpointInput, joule_sdk::api::ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    let known: &[&str] = if registering { &["url", "eventTypes", "description"] } else { &["url", "eventTypes", "description", "enabled"] };
    reader.only(known, &mut problems);
    let mut input = EndpointInput::default();
    if registering || reader.has("url") {
        input.url = reader.string("url", MAX_URL, &mut problems);
        if let Some(url) = &input.url
            && let Err(why) = check_url(url)
        {
            problems.add("url", why);
        }
    }
    if registering || reader.has("eventTypes") {
        let types = reader.strings("eventTypes", MAX_PATTERNS, 200, &mut problems);
        if let Some(types) = &types {
            if types.is_empty() {
                problems.add("eventTypes", "name at least one event type, such as \"invoice.created.v1\" or \"charger.#\"");
            }
            for (i, pattern) in types.iter().enumerate() {
                if !patterns::is_valid(pattern) {
                    problems.add(format!("eventTypes[{i}]"), "must be dot-separated words, `*` or `#`");
                }
            }
        }
        input.event_types = types;
    }
    if reader.has("description") {
        input.description = reader.optional_string("description", MAX_DESCRIPTION, &mut problems);
    }
    if reader.has("enabled") {
        match body["enabled"].as_bool() {
            Some(enabled) => input.enabled = Some(enabled),
            None => problems.add("enabled", "must be true or false"),
        }
    }
    problems.finish()?;
    Ok(input)
}

/// An absolute http or https URL with a host, and no credentials in it.
fn check_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must be an absolute http:// or https:// URL")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.starts_with(':') {
        return Err("must name a host");
    }
    if authority.contains('@') {
        return Err("must not carry credentials; deliveries are signed instead");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_registration_needs_a_url_and_event_types() {
        let ok = registration(&json!({ "url": "https://hooks.example.com/joule", "eventTypes": ["invoice.#"] })).unwrap();
        assert_eq!(ok.url.as_deref(), Some("https://hooks.example.com/joule"));
        assert!(registration(&json!({ "eventTypes": ["invoice.#"] })).is_err());
        assert!(registration(&json!({ "url": "https://h.example", "eventTypes": [] })).is_err());
        assert!(registration(&json!({ "url": "ftp://h.example", "eventTypes": ["#"] })).is_err());
        assert!(registration(&json!({ "url": "https://user:pw@h.example", "eventTypes": ["#"] })).is_err());
        assert!(registration(&json!({ "url": "https://h.example", "eventTypes": ["a..b"] })).is_err());
        assert!(registration(&json!({ "url": "https://h.example", "eventTypes": ["#"], "secret": "x" })).is_err());
    }

    #[test]
    fn an_edit_may_enable() {
        assert_eq!(edit(&json!({ "enabled": true })).unwrap().enabled, Some(true));
        assert!(edit(&json!({ "enabled": "yes" })).is_err());
        assert!(edit(&json!({})).unwrap().url.is_none());
    }
}
