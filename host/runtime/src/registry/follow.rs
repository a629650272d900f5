//! Following the other replicas: when one of them changes an active version, this process
//! switches too, within moments of the commit.

use std::time::Duration;

use super::Registry;
use super::store::ChangeFeed;

/// A full comparison with the store this often, in case a notification went missing.
const RESYNC: Duration = Duration::from_secs(30);
/// How long to wait before trying again after the store failed.
const BACKOFF: Duration = Duration::from_secs(1);

impl Registry {
    /// Switches to what other replicas deploy, until the runtime shuts down. Returns at once
    /// when no other process can share the store.
    pub(crate) async fn follow(&self) {
        let Some(mut feed) = self.subscribe().await else { return };
        loop {
            // Deploys made before the feed started listening are caught here too.
            if let Err(e) = self.reconcile().await {
                tracing::warn!(error = %e, "failed to catch up with the versions other replicas activated");
            }
            match tokio::time::timeout(RESYNC, feed.next()).await {
                Ok(Ok(())) | Err(_) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "lost the component registry's change feed; retrying");
                    tokio::time::sleep(BACKOFF).await;
                }
            }
        }
    }

    async fn subscribe(&self) -> Option<Box<dyn ChangeFeed>> {
        loop {
            match self.store.changes().await {
                Ok(feed) => return feed,
                Err(e) => {
                    tracing::warn!(error = %e, "failed to listen for other replicas' deploys; retrying");
                    tokio::time::sleep(BACKOFF).await;
                }
            }
        }
    }
}
