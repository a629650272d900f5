use joule_world::identity::{Host, Principal};

use super::IdentityState;
use crate::capabilities::shape::View;

impl Host for View<'_, IdentityState> {
    async fn caller(&mut self) -> wasmtime::Result<Option<Principal>> {
        Ok(self.state.caller.as_deref().map(|caller| Principal {
            subject: caller.subject.clone(),
            issuer: caller.issuer.clone(),
            roles: caller.roles.clone(),
            claims: caller.claims.to_string(),
        }))
    }

    async fn actor(&mut self) -> wasmtime::Result<Option<String>> {
        Ok(self.state.actor.clone())
    }
}
