//! The verified caller, as components and policies see it.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The token's `sub`: whom the issuer vouches for.
    pub subject: String,
    pub issuer: String,
    /// Read from the configured roles claim.
    pub roles: Vec<String>,
    /// Every claim of the token, as the issuer wrote them.
    pub claims: serde_json::Value,
}

impl Principal {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// The roles at a dotted path of the claims (`realm_access.roles` for Keycloak): a list of
/// strings, or one string of space-separated names (as `scope` is written).
pub(crate) fn roles_at(claims: &serde_json::Value, path: &[String]) -> Vec<String> {
    let found = path.iter().try_fold(claims, |value, step| value.get(step));
    match found {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|r| r.as_str().map(str::to_string)).collect(),
        Some(serde_json::Value::String(names)) => names.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(dotted: &str) -> Vec<String> {
        dotted.split('.').map(str::to_string).collect()
    }

    #[test]
    fn roles_are_read_from_a_nested_claim_a_list_or_a_spaced_string() {
        let claims = serde_json::json!({
            "realm_access": { "roles": ["operator", 7, "driver"] },
            "scope": "read write",
        });
        assert_eq!(roles_at(&claims, &path("realm_access.roles")), ["operator", "driver"]);
        assert_eq!(roles_at(&claims, &path("scope")), ["read", "write"]);
        assert!(roles_at(&claims, &path("roles")).is_empty());
        assert!(roles_at(&claims, &path("realm_access.roles.more")).is_empty());
    }
}
