//! Guest-side helpers for Joule components.
//!
//! - [`db`]: SQL with typed parameters and rows, inside the invocation's unit of work;
//! - [`kv`]: the component's own key space;
//! - [`variables`]: the component's manifest variables;
//! - [`api`]: the JSON contract of the EV API: error bodies, validation, pagination.
//!
//! HTTP itself comes from spin-sdk (`#[http_component]`, `Router`).

pub mod api;
pub mod db;
pub mod kv;
pub mod variables;

/// The raw `joule:platform` bindings, for what the helpers do not cover.
#[allow(unsafe_code, clippy::all, missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/platform.wit",
        world: "joule:platform/capabilities",
        generate_all,
        additional_derives: [PartialEq],
    });
}
