use joule_world::email::{Error, Host, Message};

use super::EmailState;
use super::compose::compose;
use crate::capabilities::shape::View;

impl Host for View<'_, EmailState> {
    async fn send(&mut self, message: Message) -> wasmtime::Result<Result<(), Error>> {
        let state = &*self.state;
        let recipients = message.to.len();
        let outcome = match compose(&state.sender, message) {
            Ok(email) => state.backend.send(&email).await,
            Err(e) => Err(e),
        };
        let label = outcome_label(&outcome);
        state.metrics.email_sent(&state.component, label);
        match &outcome {
            Ok(()) => tracing::debug!(component = %state.component, recipients, backend = state.backend.name(), "email sent"),
            // The guest's own mistake; it hears of it in the result.
            Err(Error::Invalid(_)) => {}
            Err(Error::Unavailable(why) | Error::Rejected(why)) => {
                tracing::warn!(component = %state.component, recipients, outcome = label, error = %why, "email not sent");
            }
        }
        Ok(outcome)
    }
}

/// The `outcome` label of the sent-email metric.
fn outcome_label(outcome: &Result<(), Error>) -> &'static str {
    match outcome {
        Ok(()) => "sent",
        Err(Error::Invalid(_)) => "invalid",
        Err(Error::Unavailable(_)) => "unavailable",
        Err(Error::Rejected(_)) => "rejected",
    }
}
