//! Guest-side helpers for Joule components.
//!
//! - [`db`]: SQL with typed parameters and rows, inside the invocation's unit of work;
//! - [`kv`]: the component's own key space;
//! - [`variables`]: the component's manifest variables;
//! - [`events`]: publishing events inside the unit of work, and [`export_handler!`] for
//!   components that handle them;
//! - [`api`]: the JSON contract of the EV API: error bodies, validation, pagination.
//!
//! HTTP itself comes from spin-sdk (`#[http_component]`, `Router`).

pub mod api;
pub mod db;
pub mod events;
pub mod kv;
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
