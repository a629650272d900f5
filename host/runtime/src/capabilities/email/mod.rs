//! The `email` capability: plain-text mail from the sender the manifest grants
//! (`smtp = { from = "..." }`), through the platform's mail backend: SMTP when `SMTP_URL` is
//! set, else a mail drop of `.eml` files in the state directory.
//!
//! A message is sent at the call, not at commit: SMTP has no way to take one back, so a
//! unit of work that rolls back after a send has still sent it (see `wit/platform.wit`).

mod compose;
mod host;
pub mod mail_drop;
pub mod smtp;

use std::sync::Arc;

use async_trait::async_trait;
use joule_world::email::Error;
use lettre::message::Mailbox;
use wasmtime::component::Linker;

use super::shape::{Capability, Load, Start, View, ViewOf};
use crate::manifest::Grants;
use crate::metrics::Metrics;

/// Where composed messages go.
#[async_trait]
pub trait MailBackend: Send + Sync {
    fn name(&self) -> &'static str;
    /// Delivers one message to its envelope's recipients, or says why it could not.
    async fn send(&self, email: &lettre::Message) -> Result<(), Error>;
}

/// Every component's mail, through one backend.
pub(crate) struct Email {
    pub backend: Arc<dyn MailBackend>,
    pub metrics: Arc<Metrics>,
}

/// The email side of one component and of each of its invocations.
#[derive(Clone)]
pub struct EmailState {
    backend: Arc<dyn MailBackend>,
    metrics: Arc<Metrics>,
    component: Arc<str>,
    /// The granted sender: every message's `From`.
    sender: Arc<Mailbox>,
}

impl Capability for Email {
    const NAME: &'static str = "email";
    const GRANT_HINT: &'static str = "add `smtp = { from = \"Name <address@example.com>\" }` to its [component.<id>] table";
    const INTERFACES: &'static [&'static str] = &[joule_world::interface_names::EMAIL];
    type Component = EmailState;
    type State = EmailState;

    fn is_granted(grants: &Grants) -> bool {
        grants.smtp.is_some()
    }

    fn component(&self, load: &Load<'_>) -> EmailState {
        let grant = load.config.grants.smtp.as_ref().expect("loaded only when granted");
        EmailState {
            backend: self.backend.clone(),
            metrics: self.metrics.clone(),
            component: load.component.clone(),
            sender: Arc::new(grant.from.clone()),
        }
    }

    fn state(component: &EmailState, _: &Start<'_>) -> EmailState {
        component.clone()
    }

    fn add_to_linker<T: Send + 'static>(linker: &mut Linker<T>, view: fn(&mut T) -> View<'_, EmailState>) -> anyhow::Result<()> {
        Ok(joule_world::email::add_to_linker::<_, ViewOf<EmailState>>(linker, view)?)
    }
}
