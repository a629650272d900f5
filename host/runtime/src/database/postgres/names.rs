//! The schema and role names of a component, and its role's password.

use sha2::{Digest, Sha256};

/// Postgres truncates identifiers longer than this.
const MAX_IDENTIFIER: usize = 63;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Names {
    pub component: String,
    /// `<application>_<component>`: one schema per component and application.
    pub schema: String,
    /// `<database>_<application>_<component>`: roles are shared by the whole cluster,
    /// so the database is part of the name.
    pub role: String,
}

impl Names {
    pub(super) fn new(database: &str, application: &str, component: &str) -> Self {
        Self {
            component: component.to_string(),
            schema: identifier(&format!("{application}_{component}")),
            role: identifier(&format!("{database}_{application}_{component}")),
        }
    }

    /// A password derived from `secret`, so every replica computes the same one.
    pub(super) fn password(&self, secret: Option<&str>) -> Option<String> {
        let secret = secret?;
        let digest = Sha256::digest(format!("joule-role:{secret}:{}", self.role));
        Some(hex::encode(&digest[..24]))
    }
}

/// Lowercase letters, digits and `_`, at most 63 characters: safe to quote into SQL.
fn identifier(raw: &str) -> String {
    let clean: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if clean.len() <= MAX_IDENTIFIER {
        return clean;
    }
    let hash = hex::encode(&Sha256::digest(raw.as_bytes())[..6]);
    format!("{}_{hash}", &clean[..MAX_IDENTIFIER - hash.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_identifiers() {
        let names = Names::new("ev-prod", "ev-platform", "stations");
        assert_eq!(names.schema, "ev_platform_stations");
        assert_eq!(names.role, "ev_prod_ev_platform_stations");
        let long = Names::new(&"d".repeat(40), &"a".repeat(40), "c");
        assert_eq!(long.role.len(), 63);
        assert_ne!(long.role, Names::new(&"d".repeat(41), &"a".repeat(40), "c").role);
    }

    #[test]
    fn passwords_are_derived_per_role() {
        let a = Names::new("db", "app", "a");
        let b = Names::new("db", "app", "b");
        assert_eq!(a.password(None), None);
        assert_eq!(a.password(Some("k")), a.password(Some("k")));
        assert_ne!(a.password(Some("k")), b.password(Some("k")));
        assert_ne!(a.password(Some("k")), a.password(Some("other")));
    }
}
