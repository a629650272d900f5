//! Path parameters as the router hands them over: still percent-encoded, since a subject
//! may hold characters a path must escape (`auth0|42`, `ada@example.com`).

use spin_sdk::http::Params;

/// The decoded value of the path parameter `name`; `None` when it does not decode to UTF-8
/// text without control characters, which names nothing here.
pub fn param(params: &Params, name: &str) -> Option<String> {
    decode(params.get(name).unwrap_or_default())
}

fn decode(raw: &str) -> Option<String> {
    let text = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?;
    (!text.is_empty() && !joule_sdk::api::text::forbidden_in_line(&text)).then(|| text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_escapes_and_refuses_what_names_nothing() {
        assert_eq!(decode("auth0%7C42").as_deref(), Some("auth0|42"));
        assert_eq!(decode("ada%40example.com").as_deref(), Some("ada@example.com"));
        assert_eq!(decode("d%C3%B8").as_deref(), Some("dø"));
        assert_eq!(decode("plain-1").as_deref(), Some("plain-1"));
        // A `%` that starts no escape stays itself, and names no account either.
        assert_eq!(decode("%zz").as_deref(), Some("%zz"));
        for bad in ["", "%FF", "a%00b", "%0A"] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
