//! Host bindings for the `joule:platform` WIT package.
//!
//! `bindgen!` runs here and nowhere else; every other crate uses these types.
//! The bindings come from `wit/platform.wit` alone, which names no WASI package
//! (the `http-component` world is served through `wasmtime-wasi-http` instead).

mod generated {
    wasmtime::component::bindgen!({
        path: "../../wit/platform.wit",
        additional_derives: [PartialEq],
        world: "joule:platform/capabilities",
        imports: { default: async | trappable | tracing },
    });

    /// A world that imports the capabilities and exports something: its imports are the
    /// types generated above, so every such world shares one set of host implementations.
    macro_rules! world_with_capabilities {
        ($world:literal) => {
            wasmtime::component::bindgen!({
                path: "../../wit/platform.wit",
                additional_derives: [PartialEq],
                world: $world,
                imports: { default: async | trappable | tracing },
                exports: { default: async },
                with: {
                    "joule:platform/database": crate::generated::joule::platform::database,
                    "joule:platform/kv": crate::generated::joule::platform::kv,
                    "joule:platform/events": crate::generated::joule::platform::events,
                    "joule:platform/variables": crate::generated::joule::platform::variables,
                    "joule:platform/pricing": crate::generated::joule::platform::pricing,
                    "joule:platform/pricing-types": crate::generated::joule::platform::pricing_types,
                    "joule:platform/templates": crate::generated::joule::platform::templates,
                    "joule:platform/timers": crate::generated::joule::platform::timers,
                    "joule:platform/identity": crate::generated::joule::platform::identity,
                    "joule:platform/ocpp": crate::generated::joule::platform::ocpp,
                    "joule:platform/email": crate::generated::joule::platform::email,
                    "joule:platform/event-types": crate::generated::joule::platform::event_types,
                    "joule:platform/message-types": crate::generated::joule::platform::message_types,
                },
            });
        };
    }

    pub mod event_handler {
        world_with_capabilities!("joule:platform/event-handler");
    }

    pub mod ocpp_handler {
        world_with_capabilities!("joule:platform/ocpp-handler");
    }

    pub mod pricing_rule {
        wasmtime::component::bindgen!({
            path: "../../wit/platform.wit",
            additional_derives: [PartialEq],
            world: "joule:platform/pricing-rule",
            exports: { default: async },
            with: {
                "joule:platform/pricing-types": crate::generated::joule::platform::pricing_types,
            },
        });
    }

    pub mod notification_template {
        wasmtime::component::bindgen!({
            path: "../../wit/platform.wit",
            additional_derives: [PartialEq],
            world: "joule:platform/notification-template",
            exports: { default: async },
            with: {
                "joule:platform/event-types": crate::generated::joule::platform::event_types,
                "joule:platform/message-types": crate::generated::joule::platform::message_types,
            },
        });
    }
}

pub use generated::joule::platform::{
    database, email, event_types, events, identity, kv, message_types, ocpp, pricing, pricing_types, templates, timers,
    variables,
};
pub use generated::{Capabilities, CapabilitiesPre};

/// The `event-handler` world: capabilities plus the exported `handler`.
pub mod event_handler {
    pub use crate::generated::event_handler::exports::joule::platform::handler;
    pub use crate::generated::event_handler::{EventHandler, EventHandlerPre};
}

/// The `ocpp-handler` world: capabilities plus the exported `charge-point`.
pub mod ocpp_handler {
    pub use crate::generated::ocpp_handler::exports::joule::platform::charge_point;
    pub use crate::generated::ocpp_handler::{OcppHandler, OcppHandlerPre};
}

/// The `pricing-rule` world: the exported `rule`, and no imports.
pub mod pricing_rule {
    pub use crate::generated::pricing_rule::exports::joule::platform::rule;
    pub use crate::generated::pricing_rule::{PricingRule, PricingRulePre};
}

/// The `notification-template` world: the exported `template`, and no imports.
pub mod notification_template {
    pub use crate::generated::notification_template::exports::joule::platform::template;
    pub use crate::generated::notification_template::{NotificationTemplate, NotificationTemplatePre};
}

/// The fully qualified names under which components import each capability.
pub mod interface_names {
    pub const DATABASE: &str = "joule:platform/database@0.1.0";
    pub const KV: &str = "joule:platform/kv@0.1.0";
    pub const EVENTS: &str = "joule:platform/events@0.1.0";
    pub const VARIABLES: &str = "joule:platform/variables@0.1.0";
    pub const PRICING: &str = "joule:platform/pricing@0.1.0";
    pub const EVENT_TYPES: &str = "joule:platform/event-types@0.1.0";
    pub const PRICING_TYPES: &str = "joule:platform/pricing-types@0.1.0";
    pub const TEMPLATES: &str = "joule:platform/templates@0.1.0";
    pub const MESSAGE_TYPES: &str = "joule:platform/message-types@0.1.0";
    pub const TIMERS: &str = "joule:platform/timers@0.1.0";
    pub const IDENTITY: &str = "joule:platform/identity@0.1.0";
    pub const OCPP: &str = "joule:platform/ocpp@0.1.0";
    pub const EMAIL: &str = "joule:platform/email@0.1.0";
}
