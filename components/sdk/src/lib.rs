//! Guest-side helpers for Joule components.
//!
//! - [`db`]: SQL with typed parameters and rows, inside the invocation's unit of work;
//! - [`kv`]: the component's own key space;
//! - [`variables`]: the component's manifest variables;
//! - [`events`]: publishing events inside the unit of work, and [`export_handler!`] for
//!   components that handle them;
//! - [`timers`]: events the component schedules for itself, inside the unit of work;
//! - [`identity`]: who is calling, and [`identity::require_role`];
//! - [`access`]: who may do what in the EV platform: drivers and operators;
//! - [`pricing`]: running pricing rules, and [`export_pricing_rule!`] for rules;
//! - [`templates`]: rendering notifications, and [`export_template!`] for templates;
//! - [`email`]: mail from the granted sender, sent at the call (not at commit);
//! - [`ocpp`]: answering OCPP charge points, and [`export_ocpp_handler!`] for components
//!   behind `[[trigger.ocpp]]`;
//! - [`api`]: the JSON contract of the EV API: error bodies, validation, pagination;
//! - [`ids`]: time-ordered ids.
//!
//! HTTP itself comes from spin-sdk (`#[http_component]`, `Router`).

pub mod access;
pub mod api;
pub mod db;
pub mod email;
pub mod events;
pub mod identity;
pub mod ids;
pub mod kv;
pub mod ocpp;
pub mod pricing;
pub mod templates;
pub mod timers;
pub mod variables;

/// The raw `joule:platform` bindings, for what the helpers do not cover.
///
/// They are generated for the `event-handler` world, which imports every capability; a
/// component imports only what it calls, and exports the handler only through
/// [`export_handler!`].
#[allow(unsafe_code, clippy::all, missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/platform.wit",
        world: "joule:platform/event-handler",
        generate_all,
        additional_derives: [PartialEq],
        pub_export_macro: true,
        export_macro_name: "export_handler",
        default_bindings_module: "joule_sdk::bindings",
    });
}

/// Exports a [`events::Handler`] as the component's event handler.
pub use bindings::export_handler;

/// Bindings of the `pricing-rule` world, sharing the types above.
#[allow(unsafe_code, clippy::all, missing_docs)]
pub mod rule_bindings {
    wit_bindgen::generate!({
        path: "../../wit/platform.wit",
        world: "joule:platform/pricing-rule",
        with: { "joule:platform/pricing-types@0.1.0": crate::bindings::joule::platform::pricing_types },
        pub_export_macro: true,
        export_macro_name: "export_pricing_rule",
        default_bindings_module: "joule_sdk::rule_bindings",
    });
}

/// Exports a [`pricing::Rule`] as the component's pricing rule.
pub use rule_bindings::export_pricing_rule;

/// Bindings of the `notification-template` world, sharing the types above.
#[allow(unsafe_code, clippy::all, missing_docs)]
pub mod template_bindings {
    wit_bindgen::generate!({
        path: "../../wit/platform.wit",
        world: "joule:platform/notification-template",
        with: {
            "joule:platform/event-types@0.1.0": crate::bindings::joule::platform::event_types,
            "joule:platform/message-types@0.1.0": crate::bindings::joule::platform::message_types,
        },
        pub_export_macro: true,
        export_macro_name: "export_template",
        default_bindings_module: "joule_sdk::template_bindings",
    });
}

/// Exports a [`templates::Template`] as the component's notification template.
pub use template_bindings::export_template;

/// Bindings of the `ocpp-handler` world. Its imports are those of `bindings` (the same
/// `capabilities`), mapped onto the types generated there so a component sees one
/// `Value`, one `Principal`, and imports each function once.
#[allow(unsafe_code, clippy::all, missing_docs)]
pub mod ocpp_bindings {
    wit_bindgen::generate!({
        path: "../../wit/platform.wit",
        world: "joule:platform/ocpp-handler",
        with: {
            "joule:platform/database@0.1.0": crate::bindings::joule::platform::database,
            "joule:platform/kv@0.1.0": crate::bindings::joule::platform::kv,
            "joule:platform/event-types@0.1.0": crate::bindings::joule::platform::event_types,
            "joule:platform/events@0.1.0": crate::bindings::joule::platform::events,
            "joule:platform/variables@0.1.0": crate::bindings::joule::platform::variables,
            "joule:platform/pricing-types@0.1.0": crate::bindings::joule::platform::pricing_types,
            "joule:platform/pricing@0.1.0": crate::bindings::joule::platform::pricing,
            "joule:platform/message-types@0.1.0": crate::bindings::joule::platform::message_types,
            "joule:platform/templates@0.1.0": crate::bindings::joule::platform::templates,
            "joule:platform/timers@0.1.0": crate::bindings::joule::platform::timers,
            "joule:platform/identity@0.1.0": crate::bindings::joule::platform::identity,
            "joule:platform/ocpp@0.1.0": crate::bindings::joule::platform::ocpp,
            "joule:platform/email@0.1.0": crate::bindings::joule::platform::email,
        },
        additional_derives: [PartialEq],
        pub_export_macro: true,
        export_macro_name: "export_ocpp_handler",
        default_bindings_module: "joule_sdk::ocpp_bindings",
    });
}

/// Exports an [`ocpp::ChargePoint`] as the component's OCPP handler.
pub use ocpp_bindings::export_ocpp_handler;
