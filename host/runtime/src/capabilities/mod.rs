//! Capabilities: what a component may import, and the host side of each.
//!
//! Each capability module has the same shape: `mod.rs` holds its lifecycle (the backend
//! trait, the per-invocation state, linking), `host.rs` implements the WIT `Host` trait,
//! and the backends sit in files of their own.

pub(crate) mod callee;
pub mod database;
pub mod events;
pub mod kv;
pub mod outbound_http;
pub mod pricing;
pub mod templates;
pub mod variables;

use std::fmt;

use joule_world::interface_names;
use wasmtime::component::Linker;

use crate::invocation::InvocationState;
use crate::manifest::Grants;

/// A capability a manifest can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Database,
    KeyValue,
    Events,
    Variables,
    Pricing,
    Templates,
    OutboundHttp,
}

impl Capability {
    const ALL: [Self; 7] =
        [Self::Database, Self::KeyValue, Self::Events, Self::Variables, Self::Pricing, Self::Templates, Self::OutboundHttp];

    fn is_granted(self, grants: &Grants) -> bool {
        match self {
            Self::Database => grants.database.is_some(),
            Self::KeyValue => grants.key_value,
            Self::Events => !grants.events_publish.is_empty(),
            Self::Variables => grants.variables,
            Self::Pricing => grants.pricing.is_some(),
            Self::Templates => grants.templates.is_some(),
            Self::OutboundHttp => !grants.outbound_http.is_empty(),
        }
    }

    /// How to grant it in `spin.toml`.
    fn grant_hint(self) -> &'static str {
        match self {
            Self::Database => "add a [component.<id>.database] table",
            Self::KeyValue => "add key_value_stores = [\"default\"]",
            Self::Events => "list the event types in [component.<id>.events] publish = [...]",
            Self::Variables => "declare them in [component.<id>.variables]",
            Self::Pricing => "add a [component.<id>.pricing] table",
            Self::Templates => "add a [component.<id>.templates] table",
            Self::OutboundHttp => "list the hosts in allowed_outbound_hosts",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Database => "database",
            Self::KeyValue => "key-value",
            Self::Events => "events",
            Self::Variables => "variables",
            Self::Pricing => "pricing",
            Self::Templates => "templates",
            Self::OutboundHttp => "outbound HTTP",
        })
    }
}

/// The capabilities `grants` gives, in a fixed order.
pub fn granted(grants: &Grants) -> Vec<Capability> {
    Capability::ALL.into_iter().filter(|capability| capability.is_granted(grants)).collect()
}

/// How the host treats one import of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImportKind {
    /// WASI 0.2 interfaces every component gets; they reach nothing outside the sandbox.
    Wasi,
    /// Interfaces that only define types.
    TypesOnly,
    Capability(Capability),
    Unknown,
}

fn classify(import: &str) -> ImportKind {
    let (path, version) = import.split_once('@').unwrap_or((import, ""));
    if path == "wasi:http/outgoing-handler" && version.starts_with("0.2.") {
        return ImportKind::Capability(Capability::OutboundHttp);
    }
    if let Some(rest) = path.strip_prefix("wasi:") {
        let package = rest.split('/').next().unwrap_or_default();
        let known = ["io", "clocks", "random", "cli", "filesystem", "sockets", "http"];
        return if known.contains(&package) && version.starts_with("0.2.") {
            ImportKind::Wasi
        } else {
            ImportKind::Unknown
        };
    }
    let with_version = |name: &str| name.split_once('@').map(|(p, _)| p.to_string()).unwrap_or_default();
    if !version.starts_with("0.1.") {
        return ImportKind::Unknown;
    }
    let capabilities = [
        (interface_names::DATABASE, Capability::Database),
        (interface_names::KV, Capability::KeyValue),
        (interface_names::EVENTS, Capability::Events),
        (interface_names::VARIABLES, Capability::Variables),
        (interface_names::PRICING, Capability::Pricing),
        (interface_names::TEMPLATES, Capability::Templates),
    ];
    if let Some((_, capability)) = capabilities.iter().find(|(name, _)| with_version(name) == path) {
        return ImportKind::Capability(*capability);
    }
    let types_only = [interface_names::EVENT_TYPES, interface_names::PRICING_TYPES, interface_names::MESSAGE_TYPES];
    if types_only.iter().any(|n| with_version(n) == path) {
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
    NotGranted { component: String, capability: Capability, import: String, hint: &'static str },
    #[error("component {component:?} imports {import}, which Joule does not provide")]
    Unknown { component: String, import: String },
}

/// Checks every import against the grants: anything not granted is refused.
pub fn check_imports<'a>(
    component: &str,
    grants: &Grants,
    imports: impl IntoIterator<Item = &'a str>,
) -> Result<(), ImportError> {
    for import in imports {
        match classify(import) {
            ImportKind::Wasi | ImportKind::TypesOnly => {}
            ImportKind::Unknown => {
                return Err(ImportError::Unknown { component: component.into(), import: import.into() });
            }
            ImportKind::Capability(capability) if !capability.is_granted(grants) => {
                return Err(ImportError::NotGranted {
                    component: component.into(),
                    capability,
                    import: import.into(),
                    hint: capability.grant_hint(),
                });
            }
            ImportKind::Capability(_) => {}
        }
    }
    Ok(())
}

/// Builds a linker holding WASI plus exactly the capabilities `grants` allows.
pub fn linker(engine: &wasmtime::Engine, grants: &Grants) -> anyhow::Result<Linker<InvocationState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    // Outgoing requests are checked against the grant in `OutboundHttpHooks`.
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    if grants.database.is_some() {
        database::add_to_linker(&mut linker)?;
    }
    if grants.key_value {
        kv::add_to_linker(&mut linker)?;
    }
    if !grants.events_publish.is_empty() {
        events::add_to_linker(&mut linker)?;
    }
    if grants.pricing.is_some() {
        pricing::add_to_linker(&mut linker)?;
    }
    if grants.templates.is_some() {
        templates::add_to_linker(&mut linker)?;
    }
    if grants.variables {
        variables::add_to_linker(&mut linker)?;
    }
    Ok(linker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::DatabaseGrant;

    #[test]
    fn classifies_imports() {
        assert_eq!(classify("wasi:io/streams@0.2.0"), ImportKind::Wasi);
        assert_eq!(classify("wasi:http/types@0.2.6"), ImportKind::Wasi);
        assert_eq!(classify("wasi:http/outgoing-handler@0.2.0"), ImportKind::Capability(Capability::OutboundHttp));
        assert_eq!(classify("wasi:keyvalue/store@0.2.0-draft"), ImportKind::Unknown);
        assert_eq!(classify("wasi:io/streams@0.3.0"), ImportKind::Unknown);
        assert_eq!(classify("joule:platform/database@0.1.0"), ImportKind::Capability(Capability::Database));
        assert_eq!(classify("joule:platform/kv@0.1.3"), ImportKind::Capability(Capability::KeyValue));
        assert_eq!(classify("joule:platform/event-types@0.1.0"), ImportKind::TypesOnly);
        assert_eq!(classify("joule:platform/database@0.2.0"), ImportKind::Unknown);
        assert_eq!(classify("spin:postgres/postgres@3.0.0"), ImportKind::Unknown);
    }

    #[test]
    fn refuses_ungranted_capabilities_by_name() {
        let imports = ["wasi:io/streams@0.2.0", "joule:platform/database@0.1.0"];
        let error = check_imports("stations", &Grants::default(), imports).unwrap_err();
        assert!(matches!(error, ImportError::NotGranted { capability: Capability::Database, .. }));
        let message = error.to_string();
        assert!(message.contains("\"stations\"") && message.contains("database"), "{message}");

        let grants = Grants { database: Some(DatabaseGrant::default()), ..Grants::default() };
        check_imports("stations", &grants, imports).unwrap();
        assert_eq!(granted(&grants), [Capability::Database]);
        assert!(granted(&Grants::default()).is_empty());
    }

    #[test]
    fn refuses_unknown_imports() {
        let error = check_imports("x", &Grants::default(), ["spin:postgres/postgres@3.0.0"]).unwrap_err();
        assert!(error.to_string().contains("spin:postgres/postgres@3.0.0"));
    }
}
