//! The import check at load: each import of a component is WASI, a types-only interface, or a
//! capability, and a `joule:platform` capability it imports must be granted.
//!
//! Toolchains import `wasi:http/outgoing-handler` (componentize-js always does) or
//! `wasi:sockets` whether or not the code uses them, so those load either way: requests are
//! checked against `allowed_outbound_hosts` when sent, and sockets are never granted. Loading
//! one without the grant logs a warning, since a call will be refused.

use joule_world::interface_names;

use super::{ALL, Entry};
use crate::manifest::Grants;

/// How the host treats one import of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImportKind {
    /// WASI 0.2 interfaces every component gets; they reach nothing outside the sandbox.
    Wasi,
    /// WASI 0.2 interfaces that reach outside, refused at the call unless granted.
    WasiNetwork(Network),
    /// Interfaces that only define types.
    TypesOnly,
    Capability(&'static Entry),
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Network {
    OutgoingHttp,
    Sockets,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Entry {}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

fn classify(import: &str) -> ImportKind {
    let (path, version) = import.split_once('@').unwrap_or((import, ""));
    if let Some(rest) = path.strip_prefix("wasi:") {
        let package = rest.split('/').next().unwrap_or_default();
        let known = ["io", "clocks", "random", "cli", "filesystem", "sockets", "http"];
        if !(known.contains(&package) && version.starts_with("0.2.")) {
            return ImportKind::Unknown;
        }
        return match (package, path) {
            (_, "wasi:http/outgoing-handler") => ImportKind::WasiNetwork(Network::OutgoingHttp),
            ("sockets", _) => ImportKind::WasiNetwork(Network::Sockets),
            _ => ImportKind::Wasi,
        };
    }
    if !version.starts_with("0.1.") {
        return ImportKind::Unknown;
    }
    let unversioned = |name: &str| name.split_once('@').map(|(p, _)| p.to_string()).unwrap_or_default();
    if let Some(entry) = ALL.iter().find(|entry| entry.interfaces.iter().any(|name| unversioned(name) == path)) {
        return ImportKind::Capability(entry);
    }
    let types_only = [interface_names::EVENT_TYPES, interface_names::PRICING_TYPES, interface_names::MESSAGE_TYPES];
    if types_only.iter().any(|name| unversioned(name) == path) {
        return ImportKind::TypesOnly;
    }
    ImportKind::Unknown
}

/// Why a component's imports were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(
        "component {component:?} imports the {capability} capability ({import}), \
         but its manifest does not grant it: {hint}"
    )]
    NotGranted { component: String, capability: &'static str, import: String, hint: &'static str },
    #[error("component {component:?} imports {import}, which Joule does not provide")]
    Unknown { component: String, import: String },
}

/// Checks every import against the grants: an ungranted `joule:platform` capability or an
/// unknown interface is refused.
pub(crate) fn check_imports<'a>(
    component: &str,
    grants: &Grants,
    imports: impl IntoIterator<Item = &'a str>,
) -> Result<(), ImportError> {
    for import in imports {
        match classify(import) {
            ImportKind::Wasi | ImportKind::WasiNetwork(_) | ImportKind::TypesOnly => {}
            ImportKind::Unknown => {
                return Err(ImportError::Unknown { component: component.into(), import: import.into() });
            }
            ImportKind::Capability(entry) if !(entry.is_granted)(grants) => {
                return Err(ImportError::NotGranted {
                    component: component.into(),
                    capability: entry.name,
                    import: import.into(),
                    hint: entry.grant_hint,
                });
            }
            ImportKind::Capability(_) => {}
        }
    }
    Ok(())
}

/// What a component imports that it will be refused at the call: the network interfaces its
/// toolchain added without a grant to use them. Each is a sentence for a load warning.
pub(crate) fn warnings<'a>(grants: &Grants, imports: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut sockets_seen = false;
    for import in imports {
        match classify(import) {
            ImportKind::WasiNetwork(Network::OutgoingHttp) if grants.outbound_http.is_empty() => warnings.push(format!(
                "it imports {import} and has no allowed_outbound_hosts, so every request it sends is refused"
            )),
            ImportKind::WasiNetwork(Network::Sockets) if !sockets_seen => {
                sockets_seen = true;
                warnings.push(format!("it imports {import}; Joule grants no sockets, so every connection is refused"));
            }
            _ => {}
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{AllowedHosts, DatabaseGrant};

    fn capability(name: &str) -> ImportKind {
        ImportKind::Capability(ALL.iter().find(|entry| entry.name == name).unwrap())
    }

    #[test]
    fn classifies_imports() {
        assert_eq!(classify("wasi:io/streams@0.2.0"), ImportKind::Wasi);
        assert_eq!(classify("wasi:http/types@0.2.6"), ImportKind::Wasi);
        assert_eq!(classify("wasi:http/outgoing-handler@0.2.0"), ImportKind::WasiNetwork(Network::OutgoingHttp));
        assert_eq!(classify("wasi:sockets/tcp@0.2.3"), ImportKind::WasiNetwork(Network::Sockets));
        assert_eq!(classify("wasi:keyvalue/store@0.2.0-draft"), ImportKind::Unknown);
        assert_eq!(classify("wasi:io/streams@0.3.0"), ImportKind::Unknown);
        assert_eq!(classify("joule:platform/database@0.1.0"), capability("database"));
        assert_eq!(classify("joule:platform/kv@0.1.3"), capability("key-value"));
        assert_eq!(classify("joule:platform/event-types@0.1.0"), ImportKind::TypesOnly);
        assert_eq!(classify("joule:platform/database@0.2.0"), ImportKind::Unknown);
        assert_eq!(classify("spin:postgres/postgres@3.0.0"), ImportKind::Unknown);
    }

    #[test]
    fn refuses_ungranted_capabilities_by_name() {
        let imports = ["wasi:io/streams@0.2.0", "joule:platform/database@0.1.0"];
        let error = check_imports("stations", &Grants::default(), imports).unwrap_err();
        assert!(matches!(error, ImportError::NotGranted { capability: "database", .. }));
        let message = error.to_string();
        assert!(message.contains("\"stations\"") && message.contains("database"), "{message}");

        let grants = Grants { database: Some(DatabaseGrant::default()), ..Grants::default() };
        check_imports("stations", &grants, imports).unwrap();
        assert_eq!(super::super::granted(&grants), ["database"]);
        assert!(super::super::granted(&Grants::default()).is_empty());
    }

    #[test]
    fn refuses_unknown_imports() {
        let error = check_imports("x", &Grants::default(), ["spin:postgres/postgres@3.0.0"]).unwrap_err();
        assert!(error.to_string().contains("spin:postgres/postgres@3.0.0"));
    }

    #[test]
    fn network_imports_load_without_a_grant_and_are_warned_of() {
        let imports = [
            "wasi:http/outgoing-handler@0.2.3",
            "wasi:sockets/tcp@0.2.3",
            "wasi:sockets/udp@0.2.3",
            "wasi:io/streams@0.2.3",
        ];
        check_imports("js", &Grants::default(), imports).unwrap();
        let warnings = warnings(&Grants::default(), imports);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("outgoing-handler") && warnings[0].contains("allowed_outbound_hosts"));
        assert!(warnings[1].contains("sockets"));

        let outbound = AllowedHosts::parse(&["https://api.example.com".into()]).unwrap();
        let grants = Grants { outbound_http: outbound, ..Grants::default() };
        assert_eq!(super::warnings(&grants, imports).len(), 1, "only sockets, which are never granted");
    }
}
