//! Capabilities: what a component may import, and the host side of each.
//!
//! Every capability has the shape of [`shape::Capability`]: a folder holding its WIT host
//! implementation, its per-component and per-invocation state, and its grant check. The list
//! below assembles them: the state each component and each invocation holds, the linker, and
//! the names and interfaces the import check knows. A new capability is its folder plus one
//! line in the list.

pub(crate) mod callee;
pub(crate) mod database;
pub mod email;
pub(crate) mod events;
pub(crate) mod identity;
mod imports;
pub mod ocpp;
pub mod kv;
pub(crate) mod outbound_http;
pub(crate) mod pricing;
mod purity;
pub(crate) mod shape;
pub(crate) mod templates;
pub(crate) mod timers;
pub mod variables;

use wasmtime::component::Linker;

pub use imports::ImportError;
pub(crate) use imports::{check_imports, warnings as import_warnings};
pub(crate) use purity::check_pure_callees;
use shape::{Capability, Load, Start, View};

use crate::database::DatabaseState;
use crate::manifest::Grants;

/// What the import check and error messages know of one capability.
pub(crate) struct Entry {
    pub name: &'static str,
    pub grant_hint: &'static str,
    pub interfaces: &'static [&'static str],
    pub is_granted: fn(&Grants) -> bool,
}

/// A store's data that holds the capabilities' invocation state and the unit of work.
pub(crate) trait HasCapabilities: Send + 'static {
    fn capabilities(&mut self) -> (&mut InvocationCapabilities, &mut DatabaseState);
}

macro_rules! capabilities {
    ($($field:ident: $capability:ty),* $(,)?) => {
        /// Every capability, holding what all components share; built once at startup.
        pub(crate) struct Capabilities {
            $(pub $field: $capability,)*
        }

        /// What each granted capability keeps for one component.
        pub(crate) struct ComponentCapabilities {
            $($field: Option<<$capability as Capability>::Component>,)*
        }

        /// What each granted capability keeps for one invocation.
        pub struct InvocationCapabilities {
            $($field: Option<<$capability as Capability>::State>,)*
        }

        /// Every capability, in a fixed order.
        pub(crate) const ALL: &[Entry] = &[$(Entry {
            name: <$capability>::NAME,
            grant_hint: <$capability>::GRANT_HINT,
            interfaces: <$capability>::INTERFACES,
            is_granted: <$capability>::is_granted,
        },)*];

        impl Capabilities {
            /// What the component `load` names is granted, built from its grant.
            pub(crate) fn load(&self, load: &Load<'_>) -> ComponentCapabilities {
                let grants = &load.config.grants;
                ComponentCapabilities {
                    $($field: <$capability>::is_granted(grants).then(|| self.$field.component(load)),)*
                }
            }
        }

        impl ComponentCapabilities {
            pub(crate) fn start(&self, start: &Start<'_>) -> InvocationCapabilities {
                InvocationCapabilities {
                    $($field: self.$field.as_ref().map(|component| <$capability>::state(component, start)),)*
                }
            }
        }

        /// Links exactly the capabilities `grants` gives.
        pub(crate) fn link<T: HasCapabilities>(linker: &mut Linker<T>, grants: &Grants) -> anyhow::Result<()> {
            $(if <$capability>::is_granted(grants) {
                <$capability>::add_to_linker(linker, |data: &mut T| {
                    let (capabilities, unit) = data.capabilities();
                    // Linked only where granted, and a granted capability always has its state.
                    let state = capabilities.$field.as_mut().expect("a linked capability has its state");
                    View { state, unit }
                })?;
            })*
            Ok(())
        }
    };
}

capabilities! {
    database: database::Database,
    kv: kv::KeyValue,
    events: events::Events,
    variables: variables::Variables,
    pricing: pricing::Pricing,
    templates: templates::Templates,
    outbound_http: outbound_http::OutboundHttp,
    timers: timers::Timers,
    identity: identity::Identity,
    ocpp: ocpp::Ocpp,
    email: email::Email,
}

/// The names of the capabilities `grants` gives, in a fixed order.
pub fn granted(grants: &Grants) -> Vec<&'static str> {
    ALL.iter().filter(|entry| (entry.is_granted)(grants)).map(|entry| entry.name).collect()
}
